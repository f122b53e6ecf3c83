import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { experimentIdFor, MODEL_CALL, newRunId, type ExperimentRecord, type RunRecord, type StepRecord, type Store } from "../store/index.js";
import { checkDocstringExamples } from "./docstring-check.js";
import { judgedCodes, promptFor } from "./evaluate-samples.js";
import type { LineResult } from "./results-file.js";
import { readSampleMeasures, type MeasureFields, type SampleMeasures } from "./sample-measures.js";
import { readSamples, type Sample } from "./samples-file.js";

/**
 * `koderz evaluate SAMPLES --save-run`: an outside samples file, judged by koderz's sandbox,
 * becomes a run in the store (kind "import"), so logs of other tools feed reports, compare
 * and the replay environment of train-meta.
 *
 * Decisions, and why:
 * - One experiment per task, from the task's first sample in the file. A run holds one
 *   experiment per (arm, problem), and the first sample is one unbiased draw, so the run's
 *   success rate estimates pass@1 (and equals the printed pass@1 when every task has one sample).
 * - Each experiment gets one Coder step: the judged code, and its visible pass fraction from
 *   running the docstring examples against it in the sandbox (never the hidden tests). The file
 *   says nothing about intermediate attempts, so none are made up: the step carries the
 *   sample's whole cost, and iterations (from --iterations-field) stay on the experiment.
 * - Re-importing a label is refused unless forced, naming the earlier run: a second silent copy
 *   would count the same samples twice in every listing and replay.
 */

/** The samples to import and what each one cost, read and checked before any sandbox time is spent. */
export interface SamplesImportPlan {
  samplesFile: string;
  /** The first sample of each task, in file order, with its measures. */
  chosen: { sample: Sample; measures: SampleMeasures }[];
  /** Samples left out because an earlier line answered the same task. */
  skippedSamples: number;
  fields: MeasureFields;
}

export async function planSamplesImport(input: {
  samplesFile: string;
  tasks: readonly Task[];
  datasetLabel: string;
  fields: MeasureFields;
}): Promise<SamplesImportPlan> {
  const samples = await readSamples(input.samplesFile, input.tasks, input.datasetLabel);
  const measures = readSampleMeasures(samples, input.fields, input.samplesFile);
  const firstOfTask = new Map<string, Sample>();
  for (const sample of samples) if (!firstOfTask.has(sample.task.id)) firstOfTask.set(sample.task.id, sample);
  return {
    samplesFile: input.samplesFile,
    chosen: [...firstOfTask.values()].map((sample) => ({ sample, measures: measures.get(sample.line)! })),
    skippedSamples: samples.length - firstOfTask.size,
    fields: input.fields,
  };
}

/** Imported runs with this label, oldest first. */
export function importsLabelled(store: Store, label: string): RunRecord[] {
  return store.listRuns({ kind: "import" }).filter((run) => run.label === label);
}

/** Refuses a label that was imported before, unless `force`; returns the earlier runs. */
export function refuseDuplicateImport(store: Store, label: string, force: boolean): RunRecord[] {
  const earlier = importsLabelled(store, label);
  if (earlier.length > 0 && !force) {
    throw new KoderzError(
      "bad_input",
      `label "${label}" was imported before as run ${earlier.map((run) => run.runId).join(", ")} in ${store.path}`,
      "use that run (koderz results show ID), pick another --label, or pass --force to import a new run with the same label",
    );
  }
  return earlier;
}

export interface ImportRunRequest {
  plan: SamplesImportPlan;
  /** Verdicts of the evaluation, by samples-file line; every chosen line must have one. */
  verdicts: ReadonlyMap<number, LineResult>;
  /** For the docstring-example checks (the same sandbox that gave the verdicts). */
  sandbox: Sandbox;
  label: string;
  /** The run's mode and its experiments' arm, e.g. "zero-shot" or "standard". */
  arm: string;
  stage?: string;
  tags: readonly string[];
  /** When the evaluation started: the run's start time. */
  startTime: string;
  /** Recorded in the run's config, so the import can be traced and repeated. */
  settings: { dataset: string; sanitize: boolean; timeoutSeconds: number };
  workers?: number;
  signal?: AbortSignal;
}

export interface ImportedRun {
  runId: string;
  experiments: number;
  successes: number;
}

/** Checks the chosen samples' docstring examples, then writes the run, one experiment per task. */
export async function importEvaluatedSamples(store: Store, request: ImportRunRequest): Promise<ImportedRun> {
  const { plan } = request;
  const samples = plan.chosen.map(({ sample }) => sample);
  const verdictOf = (sample: Sample): LineResult => {
    const verdict = request.verdicts.get(sample.line);
    if (!verdict) throw new KoderzError("internal", `${plan.samplesFile}:${sample.line} has no verdict to import`);
    return verdict;
  };
  samples.forEach(verdictOf); // before any sandbox time: every chosen line must be judged

  const codes = await judgedCodes(samples, request.settings.sanitize);
  const checks = await checkDocstringExamples(
    request.sandbox,
    samples.map((sample, i) => ({ key: String(sample.line), task: sample.task, prompt: promptFor(sample), code: codes[i]! })),
    { timeoutSeconds: request.settings.timeoutSeconds, workers: request.workers, signal: request.signal },
  );
  if (request.signal?.aborted) {
    throw new KoderzError("interrupted", "interrupted before the run was written: nothing was added to the store", "run the same command again (the verdicts are evaluated again)");
  }

  const run = runRecord(request, await sha256(plan.samplesFile));
  store.createRun(run);
  let successes = 0;
  try {
    plan.chosen.forEach(({ sample, measures }, i) => {
      const verdict = verdictOf(sample);
      const check = checks.get(String(sample.line))!;
      const experimentId = experimentIdFor(run.runId, request.arm, sample.task.id);
      const experiment: ExperimentRecord = {
        experimentId,
        runId: run.runId,
        problemId: sample.task.id,
        arm: request.arm,
        success: verdict.passed,
        iterations: measures.iterations,
        inputTokens: measures.inputTokens,
        outputTokens: measures.outputTokens,
        costUsd: measures.costUsd,
        // How long the outside tool took is not in a samples file.
        wallSeconds: 0,
        finalCode: codes[i]!,
        verdict: verdict.result,
        tags: [],
      };
      const step: StepRecord = {
        experimentId,
        index: 0,
        agent: "Coder",
        action: MODEL_CALL,
        response: sample.code,
        code: codes[i]!,
        testOutput: check.text,
        visiblePassFraction: check.passFraction,
        inputTokens: measures.inputTokens,
        outputTokens: measures.outputTokens,
        costUsd: measures.costUsd,
        latencyMs: 0,
      };
      store.recordExperiment(experiment, [step]);
      if (verdict.passed) successes++;
    });
  } catch (error) {
    store.finishRun(run.runId, "failed");
    throw error;
  }
  store.finishRun(run.runId, "finished");
  return { runId: run.runId, experiments: plan.chosen.length, successes };
}

function runRecord(request: ImportRunRequest, samplesSha256: string): RunRecord {
  const { plan } = request;
  const unknown = [
    ...(plan.fields.costUsd === undefined ? ["cost:unknown"] : []),
    ...(plan.fields.inputTokens === undefined && plan.fields.outputTokens === undefined ? ["tokens:unknown"] : []),
    ...(plan.fields.iterations === undefined ? ["iterations:unknown"] : []),
  ];
  return {
    runId: newRunId("import"),
    kind: "import",
    mode: request.arm,
    stage: request.stage,
    label: request.label,
    startTime: request.startTime,
    status: "running",
    tags: [...new Set(["imported", `label:${request.label}`, ...unknown, ...request.tags])],
    config: {
      samplesFile: path.resolve(plan.samplesFile),
      samplesSha256,
      ...request.settings,
      arm: request.arm,
      fields: plan.fields,
      problemIds: plan.chosen.map(({ sample }) => sample.task.id),
      samplesSkipped: plan.skippedSamples,
    },
  };
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}
