import { existsSync } from "node:fs";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { z } from "zod";
import type { Sandbox, SandboxName } from "../../sandbox/sandbox.js";
import { openSandbox } from "../../sandbox/select.js";
import { SUITE_SOURCES } from "../../tasks/dataset-location.js";
import { loadSuiteFile, resolveDataset } from "../../tasks/load.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { DEFAULT_KS, evaluateSamples, type EvaluationProgress } from "../evaluation/evaluate-samples.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { importEvaluatedSamples, planSamplesImport, refuseDuplicateImport, type SamplesImportPlan } from "../evaluation/import-run.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import { openStore, writeRunSummary, type Store } from "../store/index.js";
import { DEFAULT_ARM_MODES } from "../../training/replay-log.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { parseOptions } from "./parse.js";

/** Opens the sandbox the user asked for, or the default one; `notice` prints warnings on stderr. */
export type SandboxOpener = (name: SandboxName | undefined, notice: (message: string) => void) => Promise<Sandbox>;

/** An hour per program is far beyond any HumanEval task; larger values are typos (and overflow timers past 24 days). */
const MAX_TIMEOUT_SECONDS = 3600;

/** A label, arm or tag goes into "key:value" tags, which cannot hold commas or semicolons. */
const tagWord = z.string().trim().min(1).regex(/^[^,;]+$/, "must not contain commas or semicolons");
const fieldName = z.string().trim().min(1, "must name a field of the samples lines");

/** --save-run and the flags that only make sense with it. */
const SaveRunOptions = z.object({
  saveRun: z.boolean().default(false),
  label: tagWord.optional(),
  // A "comparative" run is read as two arms (zero-shot and iterative) by the run summary.
  arm: tagWord.refine((arm) => arm !== "comparative", "cannot be comparative: an imported run has one arm").optional(),
  costField: fieldName.optional(),
  iterationsField: fieldName.optional(),
  inputTokensField: fieldName.optional(),
  outputTokensField: fieldName.optional(),
  stage: z.string().trim().min(1).optional(),
  tags: z
    .string()
    .transform((text) => text.split(",").map((tag) => tag.trim()).filter(Boolean))
    .optional(),
  db: z.string().optional(),
  resultsDir: z.string().min(1).default("results"),
  force: z.boolean().default(false),
});
const SAVE_RUN_ONLY = ["label", "arm", "costField", "iterationsField", "inputTokensField", "outputTokensField", "stage", "tags", "db", "force"] as const;

function requireSaveRunForItsFlags(options: z.infer<typeof SaveRunOptions>, context: z.RefinementCtx): void {
  if (options.saveRun && options.label === undefined) {
    context.addIssue({ code: "custom", path: ["label"], message: "--save-run needs --label NAME, the name the imported run is listed under" });
  }
  if (options.saveRun) return;
  const stray = SAVE_RUN_ONLY.find((key) => options[key] !== undefined && options[key] !== false);
  if (stray) context.addIssue({ code: "custom", path: [stray], message: "only works with --save-run (importing the samples as a run)" });
}

const EvaluateOptions = z.object({
  dataset: z.string().min(1).default("humaneval"),
  k: z
    .string()
    .default(DEFAULT_KS.join(","))
    .refine((text) => text.split(",").every((part) => /^\d+$/.test(part.trim())), "must be a comma-separated list of whole numbers >= 1, e.g. 1,10,100")
    .transform((text) => text.split(",").map((part) => Number(part.trim())))
    .refine((ks) => ks.every((k) => k >= 1), "must be a comma-separated list of whole numbers >= 1, e.g. 1,10,100"),
  timeout: z
    .string()
    .default(String(DEFAULT_TIMEOUT_SECONDS))
    .refine((text) => /^\d+(\.\d+)?$/.test(text.trim()), "must be a number of seconds written in decimal digits, e.g. 3 or 0.5")
    .transform(Number)
    .refine((seconds) => seconds > 0, "must be more than 0 seconds")
    .refine((seconds) => seconds <= MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} seconds per program`),
  sandbox: z.enum(["docker", "process"]).optional(),
  workers: z
    .string()
    .regex(/^\d+$/, "must be a whole number >= 1")
    .transform(Number)
    .refine((workers) => workers >= 1, "must be a whole number >= 1")
    .optional(),
  sanitize: z.boolean().default(false),
  allowPartial: z.boolean().default(false),
  json: z.boolean().default(false),
  ...SaveRunOptions.shape,
}).superRefine(requireSaveRunForItsFlags);

/**
 * `koderz evaluate SAMPLES.jsonl`: the reference HumanEval harness, sandboxed. Writes
 * SAMPLES.jsonl_results.jsonl and prints pass@k on stdout; progress and notes go to stderr.
 * With --save-run the judged samples also become a run in the store (src/evaluation/import-run.ts).
 */
export function registerEvaluate(program: Command, openSandbox: SandboxOpener = openDefaultSandbox): void {
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
  // A bad field or a duplicate label is reported before any sandbox time is spent.
  const saving = options.saveRun ? await prepareSaveRun(samplesFile, tasks, SUITE_SOURCES[suite].label, options, notice) : undefined;
  const startTime = new Date().toISOString();
  let sandbox: Sandbox;
  try {
    sandbox = await openSandbox(options.sandbox, notice);
  } catch (error) {
    saving?.store.close();
    throw error;
  }

  const interrupt = interruptOnCtrlC("interrupted: finishing the programs already running, then writing the results", notice);
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
      const stopped = new KoderzError(
        "interrupted",
        `interrupted: ${summary.evaluated} of ${summary.samples} samples evaluated and written to ${summary.resultsFile}; ${summary.samples - summary.evaluated} missing`,
        "run the same command again to evaluate the missing ones (finished ones are kept)",
      );
      if (!interrupt.signal.aborted) throw stopped;
      // Stopped by Ctrl-C: the conventional exit code 130, as `benchmark` gives.
      notice(stopped.toUserText());
      process.exitCode = 130;
      return;
    }
    notice(`${summary.passed} of ${summary.samples} samples passed on ${summary.tasks} problems; results in ${summary.resultsFile}`);
    const unreported = options.k.filter((k) => summary.passAtK[`pass@${k}`] === undefined);
    if (unreported.length > 0) notice(`not reported: ${unreported.map((k) => `pass@${k}`).join(", ")} (needs at least k samples for every problem)`);
    if (saving) {
      const imported = await importEvaluatedSamples(saving.store, {
        plan: saving.plan,
        verdicts: summary.verdicts,
        sandbox,
        label: saving.label,
        arm: saving.arm,
        stage: options.stage,
        tags: options.tags ?? [],
        startTime,
        settings: { dataset: options.dataset, sanitize: options.sanitize, timeoutSeconds: options.timeout },
        workers: options.workers,
        signal: interrupt.signal,
      });
      const summaryFile = writeRunSummary(saving.store, imported.runId, options.resultsDir);
      notice(`imported as run ${imported.runId} (label ${saving.label}, arm ${saving.arm}): ${imported.experiments} experiments, ${imported.successes} passed; summary in ${summaryFile}`);
    }
    if (options.json) process.stdout.write(JSON.stringify(summary.passAtK) + "\n");
    else for (const [name, value] of Object.entries(summary.passAtK)) process.stdout.write(`${name}: ${value.toFixed(4)}\n`);
  } finally {
    progress.stop();
    interrupt.dispose();
    saving?.store.close();
    await sandbox.close();
  }
}

interface SaveRun {
  store: Store;
  plan: SamplesImportPlan;
  label: string;
  arm: string;
}

/** Reads the samples' measures and opens the store for --save-run, and says what the import will hold. */
async function prepareSaveRun(
  samplesFile: string,
  tasks: readonly Task[],
  datasetLabel: string,
  options: z.infer<typeof EvaluateOptions>,
  notice: (message: string) => void,
): Promise<SaveRun> {
  const label = options.label!;
  const arm = options.arm ?? label;
  const fields = { costUsd: options.costField, iterations: options.iterationsField, inputTokens: options.inputTokensField, outputTokens: options.outputTokensField };
  const plan = await planSamplesImport({ samplesFile, tasks, datasetLabel, fields });
  const store = openStore({ path: options.db });
  try {
    const earlier = refuseDuplicateImport(store, label, options.force);
    if (earlier.length > 0) notice(`--force: importing label ${label} again as a new run (earlier: ${earlier.map((run) => run.runId).join(", ")})`);
  } catch (error) {
    store.close();
    throw error;
  }
  if (plan.skippedSamples > 0) {
    notice(`--save-run: ${plan.skippedSamples} samples answer a task an earlier line already answered; the run keeps each task's first sample (pass@k below uses them all)`);
  }
  const unknown = [
    ...(fields.costUsd ? [] : ["cost (--cost-field) as $0"]),
    ...(fields.inputTokens || fields.outputTokens ? [] : ["tokens (--input-tokens-field, --output-tokens-field) as 0"]),
    ...(fields.iterations ? [] : ["iterations (--iterations-field) as 1"]),
  ];
  if (unknown.length > 0) notice(`--save-run: not in the file, so recorded as unknown (a <measure>:unknown tag): ${unknown.join("; ")}`);
  if (!Object.hasOwn(DEFAULT_ARM_MODES, arm)) {
    notice(`--save-run: arm "${arm}" is not a mode train-meta replays as it is (${Object.keys(DEFAULT_ARM_MODES).join(", ")}): pass --arm MODE, or map it with train-meta --arm-mode ${arm}=MODE`);
  }
  return { store, plan, label, arm };
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
