import { existsSync } from "node:fs";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { z } from "zod";
import type { Sandbox, SandboxName } from "../../sandbox/sandbox.js";
import { openSandbox } from "../../sandbox/select.js";
import { SUITE_SOURCES } from "../../tasks/dataset-location.js";
import { loadSuiteFile, resolveDataset } from "../../tasks/load.js";
import { KoderzError } from "../errors.js";
import { DEFAULT_KS, evaluateSamples, type EvaluationProgress } from "../evaluation/evaluate-samples.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import { parseOptions } from "./parse.js";

/** Opens the sandbox the user asked for, or the default one; `notice` prints warnings on stderr. */
export type SandboxOpener = (name: SandboxName | undefined, notice: (message: string) => void) => Promise<Sandbox>;

const EvaluateOptions = z.object({
  dataset: z.string().min(1).default("humaneval"),
  k: z
    .string()
    .default(DEFAULT_KS.join(","))
    .transform((text) => text.split(",").map((part) => Number(part.trim())))
    .refine((ks) => ks.length > 0 && ks.every((k) => Number.isInteger(k) && k >= 1), "must be a comma-separated list of whole numbers >= 1, e.g. 1,10,100"),
  timeout: z.coerce.number().positive("must be a number of seconds > 0").default(DEFAULT_TIMEOUT_SECONDS),
  sandbox: z.enum(["docker", "process"]).optional(),
  workers: z.coerce.number().int().positive("must be a whole number >= 1").optional(),
  sanitize: z.boolean().default(false),
  allowPartial: z.boolean().default(false),
  json: z.boolean().default(false),
});

/**
 * `koderz evaluate SAMPLES.jsonl`: the reference HumanEval harness, sandboxed. Writes
 * SAMPLES.jsonl_results.jsonl and prints pass@k on stdout; progress and notes go to stderr.
 */
export function registerEvaluate(program: Command, openSandbox: SandboxOpener = openDefaultSandbox): void {
  program
    .command("evaluate")
    .description("evaluate a samples file ({task_id, completion} per line) like the reference HumanEval harness, and print pass@k")
    .argument("<samples>", "a .jsonl file of samples; results go to <samples>_results.jsonl")
    .option("--dataset <dataset>", "humaneval, humaneval+ or the path of a .jsonl/.jsonl.gz dataset", "humaneval")
    .option("--k <list>", "the k of pass@k, comma-separated", DEFAULT_KS.join(","))
    .option("--timeout <seconds>", "time limit per program; HumanEval+ scales it up from the canonical solution's run time", String(DEFAULT_TIMEOUT_SECONDS))
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--workers <n>", "programs run at the same time (default: number of cores)")
    .option("--sanitize", "extract the code from chat-style answers first (the reference harness does not)")
    .option("--allow-partial", "score a file that has samples for only some problems")
    .option("--json", "print pass@k as a JSON object")
    .action(async (samplesFile: string, raw: unknown) => {
      await runEvaluate(samplesFile, parseOptions(EvaluateOptions, raw), openSandbox);
    });
}

async function runEvaluate(samplesFile: string, options: z.infer<typeof EvaluateOptions>, openSandbox: SandboxOpener): Promise<void> {
  if (!existsSync(samplesFile)) {
    throw new KoderzError("not_found", `samples file ${samplesFile} does not exist`, 'give a .jsonl file with one {"task_id": ..., "completion": ...} object per line');
  }
  const notice = (message: string) => process.stderr.write(`${message}\n`);
  const { suite, file } = await resolveDataset({ suite: "humaneval", dataset: options.dataset, onNotice: notice });
  const tasks = await loadSuiteFile(file, suite);
  const sandbox = await openSandbox(options.sandbox, notice);

  // First Ctrl-C: stop starting programs and write what finished. Second: leave at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    notice("\ninterrupted: finishing the programs already running, then writing the results (Ctrl-C again to quit now)");
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  const progress = progressDisplay();
  try {
    const summary = await evaluateSamples({
      samplesFile,
      tasks,
      datasetLabel: SUITE_SOURCES[suite].label,
      sandbox,
      ks: options.k,
      timeoutSeconds: options.timeout,
      // HumanEval keeps the reference's fixed limit; HumanEval+'s heavy inputs get EvalPlus-style scaled ones.
      timeLimits: suite === "humaneval+" ? (sampled) => scaledTimeLimits(sampled, sandbox, { defaultTimeoutSeconds: options.timeout, workers: options.workers, signal: interrupt.signal, onNotice: notice }) : undefined,
      workers: options.workers,
      sanitize: options.sanitize,
      allowPartial: options.allowPartial,
      signal: interrupt.signal,
      onProgress: progress.update,
      onNotice: notice,
    });
    progress.stop();
    if (!summary.complete) {
      throw new KoderzError(
        "interrupted",
        `interrupted: ${summary.evaluated} of ${summary.samples} samples evaluated and written to ${summary.resultsFile}; ${summary.samples - summary.evaluated} missing`,
        "run the same command again to evaluate the missing ones (finished ones are kept)",
      );
    }
    notice(`${summary.passed} of ${summary.samples} samples passed on ${summary.tasks} problems; results in ${summary.resultsFile}`);
    const unreported = options.k.filter((k) => summary.passAtK[`pass@${k}`] === undefined);
    if (unreported.length > 0) notice(`not reported: ${unreported.map((k) => `pass@${k}`).join(", ")} (needs at least k samples for every problem)`);
    if (options.json) process.stdout.write(JSON.stringify(summary.passAtK) + "\n");
    else for (const [name, value] of Object.entries(summary.passAtK)) process.stdout.write(`${name}: ${value.toFixed(4)}\n`);
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
    await sandbox.close();
  }
}

/** A progress bar on a terminal; nothing when stderr is a file or a pipe (logs stay clean). */
function progressDisplay(): { update: (progress: EvaluationProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "evaluating [{bar}] {value}/{total} samples, {passed} passed, eta {eta_formatted}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: ({ done, total, passed }) => {
      if (!started) bar.start(total, done, { passed });
      started = true;
      bar.update(done, { passed });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** Docker when an engine answers (or when asked for), else the process sandbox with a loud warning. */
function openDefaultSandbox(name: SandboxName | undefined, notice: (message: string) => void): Promise<Sandbox> {
  return openSandbox(name, { onNotice: notice });
}
