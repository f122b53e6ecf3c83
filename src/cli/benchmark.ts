import type { Command } from "commander";
import { BENCHMARK_MODES } from "../orchestrator/modes.js";
import { examples } from "./help-examples.js";
import { addAgentOptions, checkRunFlags, parseRange, type FlagsToCheck, type ModelsGivenRaw } from "./benchmark-flags.js";

/** `koderz benchmark`: its flags here; the run itself (benchmark-run.ts) loads once they are checked. */
export function registerBenchmark(program: Command): void {
  const command = program
    .command("benchmark")
    .argument("[start]", "first problem index (0-based)")
    .argument("[end]", "one past the last problem index, e.g. 0 164 for all of HumanEval")
    .option("--mode <mode>", `${[...BENCHMARK_MODES, "auto"].join(" | ")}; with --suite, the suite's solver unless given`, "comparative")
    .option("--suite <name|path>", "a suite by name (humaneval, humaneval+, coder-rubric, mixed), a suite file, or SWE-bench instances (.jsonl, with --repos); without START END, all its cases")
    .option("--repos <dir>", "with --suite INSTANCES.jsonl (SWE-bench instances): the folder holding a clone of each repository, named OWNER__NAME")
    .option("--image-for <repo=image>", "with --repos: the workspace image for one repository's instances, with its dependencies installed, e.g. astropy/astropy=swe-env-astropy (repeatable; default koderz-workspace)", (value: string, previous: string[] = []) => [...previous, value])
    .option("--concurrency <n>", "problems in flight at once", "2")
    .option("--resume <run-id>", "continue a stopped run where it left off")
    .option("--replay <run-id>", "re-run a recorded run from its logged answers, with zero model calls")
    .option("--queue <url>", "queue the run's problems in this PostgreSQL database for `koderz worker` processes, print the run id")
    .option("--follow", "--queue: wait for the workers, then print the summary as a local run does")
    .option("--lease-seconds <s>", "--queue: how long a worker may hold a job before another retries it (default 900)")
    .option("--doctor", "check every model first, as `koderz doctor --quick` does, and stop before the run if one fails");
  addAgentOptions(command)
    .addHelpText(
      "after",
      examples(
        "koderz benchmark 0 10 --mode zero-shot                       # the first 10 HumanEval problems, one answer each",
        "koderz benchmark 0 164 --mode comparative --tags nightly      # zero-shot against iterative on all of HumanEval",
        "koderz benchmark --suite coder-rubric --local-model ollama:qwen3-coder:30b",
        "koderz benchmark --resume qwen-nightly                         # a stopped run, by label or id, with the flags and --config it started with",
      ),
    )
    .action(async (start: string | undefined, end: string | undefined, raw: ModelsGivenRaw & FlagsToCheck) => {
    // Flags first: a usage error answers before any model, dataset or sandbox is looked at; how
    // they combine before their values, whose check loads zod (~100 files).
    checkRunFlags(raw);
    const wholeSuite = raw.suite !== undefined && start === undefined && end === undefined;
    if (!raw.resume && !raw.replay && !wholeSuite) parseRange(start, end);
    (await import("./benchmark-options.js")).parseBenchmarkFlags(raw);
    const { runBenchmarkAction } = await import("./benchmark-run.js");
    await runBenchmarkAction(start, end, raw, command.getOptionValueSource("mode") !== "default");
  });
}

