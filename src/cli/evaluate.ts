import type { Command } from "commander";
import { DEFAULT_KS } from "../evaluation/pass-at-k.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import type { SandboxOpener } from "./evaluate-flags.js";
import { parseOptions } from "./parse.js";

/**
 * `koderz evaluate SAMPLES.jsonl`: the reference HumanEval harness, sandboxed. Writes
 * SAMPLES.jsonl_results.jsonl and prints pass@k on stdout; progress and notes go to stderr.
 * With --save-run the judged samples also become a run in the store (src/evaluation/import-run.ts).
 */
export function registerEvaluate(program: Command, openSandbox?: SandboxOpener): void {
  program
    .command("evaluate")
    .argument("<samples>", "a .jsonl file of samples; results go to <samples>_results.jsonl")
    .option("--dataset <dataset>", "humaneval, humaneval+ or the path of a .jsonl/.jsonl.gz dataset", "humaneval")
    .option("--k <list>", "the k of pass@k, comma-separated", DEFAULT_KS.join(","))
    .option("--timeout <seconds>", "time limit per program; HumanEval+ scales it up from the canonical solution's run time", String(DEFAULT_TIMEOUT_SECONDS))
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--workers <n>", "programs run at the same time (default: number of cores)")
    .option("--sanitize", "extract the code from chat-style answers first (the reference harness does not)")
    .option("--allow-partial", "score a file that has samples for only some problems")
    .option("--json", "print pass@k as a JSON object")
    .option("--save-run", "also import the samples as a run in the store (kind import), one experiment per task from its first sample")
    .option("--label <name>", "--save-run: the run's label (tagged label:NAME); a label already imported is refused without --force")
    .option("--arm <name>", "--save-run: the run's mode and arm (default: the label); fast, standard, deep or zero-shot are replayable as they are")
    .option("--cost-field <field>", "--save-run: the samples' field with each sample's cost in US dollars (a.b for nested)")
    .option("--iterations-field <field>", "--save-run: the samples' field with each sample's number of iterations")
    .option("--input-tokens-field <field>", "--save-run: the samples' field with each sample's input tokens")
    .option("--output-tokens-field <field>", "--save-run: the samples' field with each sample's output tokens")
    .option("--stage <label>", "--save-run: a stage label for compare (baseline, finetuned, ...)")
    .option("--tags <list>", "--save-run: extra tags, comma-separated")
    .option("--db <path>", "--save-run: the store (default: $KODERZ_DB, else results/koderz.db)")
    .option("--results-dir <dir>", "--save-run: where the run's summary JSON goes", "results")
    .option("--force", "--save-run: import even when the label was imported before (a new run)")
    .action(async (samplesFile: string, raw: unknown) => {
      // Loaded after commander's checks (an unknown flag loads no zod), the sandbox once the values are checked.
      const options = parseOptions((await import("./evaluate-flags.js")).EvaluateOptions, raw);
      const { runEvaluate } = await import("./evaluate-run.js");
      await runEvaluate(samplesFile, options, openSandbox);
    });
}
