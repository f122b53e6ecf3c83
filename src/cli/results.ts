import type { Command } from "commander";
import { RUN_KINDS, RUN_STATUSES } from "../store/records.js";
import { examples } from "./help-examples.js";

/**
 * `koderz results list | show | measure | export | tag | stage`: the store, read and labelled
 * from the command line. Their flags here; the store (results-actions.ts) loads once they parse.
 */
export function registerResults(program: Command): void {
  const results = program.command("results");
  const actions = () => import("./results-actions.js");
  const db = ["--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)"] as const;

  results
    .command("list")
    .description("list runs (label or model · mode · suite, id, models called, suite, status, figures), filtered by tags, model, label, suite, status, problem, kind or stage")
    .option("--tags <tags>", "comma-separated tags, all must match (a bare tag also matches key:tag, e.g. zero-shot → mode:zero-shot)")
    .option("--model <model>", "runs that called this model (a model only named in a run's config does not count)")
    .option("--label <label>", "runs with this label")
    .option("--suite <suite>", "runs over this suite or dataset, e.g. humaneval+ or coder-rubric")
    .option("--status <status>", `one of ${RUN_STATUSES.join(", ")}`)
    .option("--problem <id>", "runs with this problem, e.g. HumanEval/0")
    .option("--kind <kind>", `one of ${RUN_KINDS.join(", ")}`)
    .option("--stage <stage>", "runs with this stage label")
    .option("--json", "print JSON instead of a table")
    .option(...db)
    .addHelpText("after", examples("koderz results list --status interrupted", "koderz results list --model kimi-k2 --suite humaneval+ --json | jq '.runs[].runId'"))
    .action(async (raw: unknown) => (await actions()).listAction(raw));

  results
    .command("show")
    .description("a run's config and its per-problem results")
    .argument("<run>", "run id or label")
    .option("--json", "print JSON instead of tables")
    .option(...db)
    .addHelpText("after", examples("koderz results show qwen-baseline", "koderz results show bench_a1b2c3d4_20261207_101500 --json | jq '.experiments[] | select(.success == false) | .problemId'"))
    .action(async (runId: string, raw: unknown) => (await actions()).showAction(runId, raw));

  results
    .command("measure")
    .description("measure a recorded benchmark run in the sandbox: final code quality, and deep runs' drafts on generated inputs")
    .argument("<run>", "run id or label")
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--results-dir <dir>", "where the run's summary JSON is rewritten", "results")
    .option(...db)
    .addHelpText("after", examples("koderz results measure qwen-deep --sandbox docker"))
    .action(async (runId: string, raw: unknown) => (await actions()).measureAction(runId, raw));

  results
    .command("export")
    .description("export a run: json is the run summary; csv and jsonl have one row per experiment")
    .argument("<run>", "run id or label")
    .requiredOption("--format <format>", "csv, json or jsonl")
    .option("--output <file>", "write to this file instead of stdout")
    .option(...db)
    .addHelpText("after", examples("koderz results export qwen-baseline --format csv --output qwen.csv", "koderz results export qwen-baseline --format json | jq .summary"))
    .action(async (runId: string, raw: unknown) => (await actions()).exportAction(runId, raw));

  results
    .command("tag")
    .description("add tags to a run")
    .argument("<run>", "run id or label")
    .argument("<tags...>", "tags to add, e.g. nightly model:kimi-k2")
    .option(...db)
    .addHelpText("after", examples("koderz results tag qwen-baseline nightly team:a"))
    .action(async (runId: string, tags: string[], raw: unknown) => (await actions()).tagAction(runId, tags, raw));

  results
    .command("stage")
    .description("label a run with a stage (baseline, after_surgery, finetuned, ...) for compare")
    .argument("<run>", "run id or label")
    .argument("[stage]", "the stage label")
    .option("--clear", "remove the run's stage label")
    .option(...db)
    .addHelpText("after", examples("koderz results stage qwen-baseline baseline", "koderz results stage qwen-baseline --clear"))
    .action(async (runId: string, stage: string | undefined, raw: unknown) => (await actions()).stageAction(runId, stage, raw));
}

