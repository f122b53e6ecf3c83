import type { Command } from "commander";
import { RUN_KINDS } from "../store/records.js";

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
    .description("list runs, filtered by tags, model, problem, kind or stage")
    .option("--tags <tags>", "comma-separated tags, all must match (a bare tag also matches key:tag, e.g. zero-shot → mode:zero-shot)")
    .option("--model <model>", "runs that used this model")
    .option("--problem <id>", "runs with this problem, e.g. HumanEval/0")
    .option("--kind <kind>", `one of ${RUN_KINDS.join(", ")}`)
    .option("--stage <stage>", "runs with this stage label")
    .option("--json", "print JSON instead of a table")
    .option(...db)
    .action(async (raw: unknown) => (await actions()).listAction(raw));

  results
    .command("show")
    .description("a run's config and its per-problem results")
    .argument("<run>", "run id")
    .option("--json", "print JSON instead of tables")
    .option(...db)
    .action(async (runId: string, raw: unknown) => (await actions()).showAction(runId, raw));

  results
    .command("measure")
    .description("measure a recorded benchmark run in the sandbox: final code quality, and deep runs' drafts on generated inputs")
    .argument("<run>", "run id")
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--results-dir <dir>", "where the run's summary JSON is rewritten", "results")
    .option(...db)
    .action(async (runId: string, raw: unknown) => (await actions()).measureAction(runId, raw));

  results
    .command("export")
    .description("export a run: json is the run summary; csv and jsonl have one row per experiment")
    .argument("<run>", "run id")
    .requiredOption("--format <format>", "csv, json or jsonl")
    .option("--output <file>", "write to this file instead of stdout")
    .option(...db)
    .action(async (runId: string, raw: unknown) => (await actions()).exportAction(runId, raw));

  results
    .command("tag")
    .description("add tags to a run")
    .argument("<run>", "run id")
    .argument("<tags...>", "tags to add, e.g. nightly model:kimi-k2")
    .option(...db)
    .action(async (runId: string, tags: string[], raw: unknown) => (await actions()).tagAction(runId, tags, raw));

  results
    .command("stage")
    .description("label a run with a stage (baseline, after_surgery, finetuned, ...) for compare")
    .argument("<run>", "run id")
    .argument("[stage]", "the stage label")
    .option("--clear", "remove the run's stage label")
    .option(...db)
    .action(async (runId: string, stage: string | undefined, raw: unknown) => (await actions()).stageAction(runId, stage, raw));
}
