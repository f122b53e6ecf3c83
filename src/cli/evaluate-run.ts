import { existsSync } from "node:fs";
import cliProgress from "cli-progress";
import type { Sandbox, SandboxName } from "../../sandbox/sandbox.js";
import { openSandbox as openNamedSandbox } from "../../sandbox/select.js";
import { SUITE_SOURCES } from "../../tasks/dataset-location.js";
import { loadSuiteFile, resolveDataset } from "../../tasks/load.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { evaluateSamples, type EvaluationProgress } from "../evaluation/evaluate-samples.js";
import { importEvaluatedSamples, planSamplesImport, refuseDuplicateImport, type SamplesImportPlan } from "../evaluation/import-run.js";
import { onDemandTimeLimits } from "../evaluation/time-limits.js";
import { openStore, SCHEMA_VERSION, writeRunSummary, type Store } from "../store/index.js";
import { DEFAULT_ARM_MODES } from "../../training/replay-log.js";
import type { EvaluateFlags, SandboxOpener } from "./evaluate-flags.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { etaSeconds, formatEta, plainProgress } from "./progress-line.js";
import type { EvaluateDocument } from "./json-documents.js";
import { checkWritableDir } from "../output-file.js";

/** `koderz evaluate` once its flags are checked. */
export async function runEvaluate(samplesFile: string, options: EvaluateFlags, openSandbox: SandboxOpener = openDefaultSandbox): Promise<void> {
  if (!existsSync(samplesFile)) {
    throw new KoderzError("not_found", `samples file ${samplesFile} does not exist`, 'give a .jsonl file with one {"task_id": ..., "completion": ...} object per line');
  }
  const notice = (message: string) => process.stderr.write(`${message}\n`);
  // Where the run's summary goes is checked before any sandbox time is spent.
  if (options.saveRun) checkWritableDir(options.resultsDir, "--results-dir");
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
  let importedRunId: string | null = null;
  try {
    const summary = await evaluateSamples({
      samplesFile,
      tasks,
      datasetLabel: SUITE_SOURCES[suite].label,
      sandbox,
      ks: options.k,
      timeoutSeconds: options.timeout,
      // HumanEval keeps the reference's fixed limit; HumanEval+'s heavy inputs get EvalPlus-style scaled ones.
      timeLimits: suite === "humaneval+" ? onDemandTimeLimits(sandbox, { defaultTimeoutSeconds: options.timeout, workers: options.workers, signal: interrupt.signal, onNotice: notice }) : undefined,
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
      importedRunId = imported.runId;
      notice(`imported as run ${imported.runId} (label ${saving.label}, arm ${saving.arm}): ${imported.experiments} experiments, ${imported.successes} passed; summary in ${summaryFile}`);
    }
    if (options.json) {
      const document: EvaluateDocument = {
        schemaVersion: SCHEMA_VERSION,
        samples: summary.samples,
        passed: summary.passed,
        problems: summary.tasks,
        passAtK: summary.passAtK,
        resultsFile: summary.resultsFile,
        runId: importedRunId,
      };
      process.stdout.write(JSON.stringify(document, null, 2) + "\n");
    }
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
  options: EvaluateFlags,
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
  if (unknown.length > 0) notice(`--save-run: not in the file, so recorded as unknown (a <measure>:unknown tag; shown as n/a and null): ${unknown.join("; ")}`);
  if (!Object.hasOwn(DEFAULT_ARM_MODES, arm)) {
    notice(`--save-run: arm "${arm}" is not a mode train-meta replays as it is (${Object.keys(DEFAULT_ARM_MODES).join(", ")}): pass --arm MODE, or map it with train-meta --arm-mode ${arm}=MODE`);
  }
  return { store, plan, label, arm };
}

/** A progress bar on a terminal; a plain line every 10 samples or 10 s otherwise (see progress-line.ts). */
function progressDisplay(): { update: (progress: EvaluationProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    const lines = plainProgress("evaluated");
    return { update: ({ done, total, passed }) => lines.update(done, total, `${passed} passed`), stop: () => undefined };
  }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "evaluating [{bar}] {value}/{total} samples, {passed} passed, eta {eta}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let startedAt = 0;
  let doneAtStart = 0;
  return {
    update: ({ done, total, passed }) => {
      const eta = formatEta(etaSeconds(done - doneAtStart, total - done, (Date.now() - startedAt) / 1000));
      if (!started) {
        startedAt = Date.now();
        doneAtStart = done;
        bar.start(total, done, { passed, eta: "-" });
      }
      started = true;
      bar.update(done, { passed, eta });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** Docker when an engine answers (or when asked for), else the process sandbox with a loud warning. */
function openDefaultSandbox(name: SandboxName | undefined, notice: (message: string) => void): Promise<Sandbox> {
  return openNamedSandbox(name, { onNotice: notice });
}
