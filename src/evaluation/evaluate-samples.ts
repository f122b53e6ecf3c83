import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Program, Sandbox, Verdict } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { DEFAULT_KS, passAtK, type TaskTally } from "./pass-at-k.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "./program.js";
import { ResultsJournal, resultsPathFor, writeResultsFile, type LineResult } from "./results-file.js";
import { readSamples, requireEveryTask, type Sample } from "./samples-file.js";
import { sanitizeCompletions } from "./sanitize.js";
import type { OnDemandTimeLimits } from "./time-limits.js";


/**
 * Programs handed to the sandbox at a time (and sanitized at a time). Verdicts are journaled one
 * by one as they arrive, so the batch size does not bound what an interrupted run loses; it is
 * large because each batch pays a container start and waits for its slowest program (HumanEval's
 * 164 canonical solutions in Docker: about 2 s as one batch, 4-5 s in batches of 48).
 */
const BATCH_SIZE = 256;

export interface EvaluateSamplesOptions {
  samplesFile: string;
  /** The problems of the dataset the samples answer. */
  tasks: readonly Task[];
  /** Names the dataset in messages, e.g. "HumanEval+". */
  datasetLabel: string;
  sandbox: Sandbox;
  ks?: readonly number[];
  /** Limit per program in seconds when `timeLimits` has no entry for its task (default 3). */
  timeoutSeconds?: number;
  /**
   * Per-task limits in seconds (HumanEval+: scaled from the canonical solution's run time): fixed,
   * or found on demand (onDemandTimeLimits: measured only for tasks where a program ran out of
   * the floor, whose programs then run again under their measured limit).
   */
  timeLimits?: ReadonlyMap<string, number> | OnDemandTimeLimits;
  workers?: number;
  /** Run each sample through the sanitizer first (off by default: the reference harness does not). */
  sanitize?: boolean;
  /** Score a file that leaves some problems out (pass@k over the problems it covers). */
  allowPartial?: boolean;
  batchSize?: number;
  /** Aborting stops after the programs already running; what finished is written. */
  signal?: AbortSignal;
  onProgress?: (progress: EvaluationProgress) => void;
  onNotice?: (message: string) => void;
}

export interface EvaluationProgress {
  done: number;
  total: number;
  passed: number;
}

export interface EvaluationSummary {
  /** "pass@1", "pass@10", ...: only for the k every problem has enough samples for; empty if incomplete. */
  passAtK: Record<string, number>;
  resultsFile: string;
  /** Lines in the samples file. */
  samples: number;
  /** Lines with a verdict, including those resumed from an earlier run. */
  evaluated: number;
  resumed: number;
  passed: number;
  /** Problems with at least one sample. */
  tasks: number;
  /** False when the run was interrupted: the results file then holds only the finished lines. */
  complete: boolean;
  /** The verdict of every evaluated line, by 1-based line (what --save-run imports). */
  verdicts: ReadonlyMap<number, LineResult>;
}

/**
 * Evaluates a samples file as the reference harness does (program = prompt + completion + test +
 * check(entry_point)), writes SAMPLES_results.jsonl (each input line plus result and passed, in
 * input order) and returns pass@k. Verdicts are journaled as they arrive and a re-run with the same
 * settings resumes, so neither Ctrl-C nor a crash loses finished work.
 */
export async function evaluateSamples(options: EvaluateSamplesOptions): Promise<EvaluationSummary> {
  const { samplesFile, tasks, sandbox } = options;
  const samples = await readSamples(samplesFile, tasks, options.datasetLabel);
  if (!options.allowPartial) requireEveryTask(samples, tasks, samplesFile);

  const sampledTasks = [...new Set(samples.map((sample) => sample.task))];
  const given = options.timeLimits;
  const onDemand = given && "measure" in given ? given : undefined;
  const fixed = given && !("measure" in given) ? given : undefined;
  const limits = onDemand ? await onDemand.known(sampledTasks) : new Map(fixed);
  const limitOf = (task: Task) => limits.get(task.id) ?? onDemand?.floorSeconds ?? options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  // On demand, a verdict depends on the floor, not on which measurements happen to be cached.
  const limitKey = onDemand ? () => `on demand, at least ${onDemand.floorSeconds}` : limitOf;
  const resultsFile = resultsPathFor(samplesFile);
  const journal = ResultsJournal.open(resultsFile, await settingsKey(samplesFile, sampledTasks, limitKey, sandbox.name, options.sanitize === true));
  const resumed = journal.finished.size;
  if (journal.dropped > 0) {
    options.onNotice?.(
      `starting over: the settings changed since the earlier run (samples, dataset, time limits, sandbox or --sanitize), so its ${journal.dropped} verdict${journal.dropped === 1 ? "" : "s"} in ${journal.path} no longer apply and are dropped`,
    );
  }
  if (resumed > 0) options.onNotice?.(`resuming: ${resumed} of ${samples.length} lines were evaluated by an earlier run (${journal.path})`);

  let passed = [...journal.finished.values()].filter((result) => result.passed).length;
  const report = () => options.onProgress?.({ done: journal.finished.size, total: samples.length, passed });
  const sampleAt = new Map(samples.map((sample) => [sample.line, sample]));
  // Out of time under the floor, their task's limit not yet measured: decided once it is.
  const undecided = new Map<number, { sample: Sample; verdict: Verdict }>();
  const record = (verdict: Verdict) => {
    const line = Number(verdict.id);
    if (!Number.isInteger(line) || journal.finished.has(line)) return;
    const sample = sampleAt.get(line);
    if (onDemand && verdict.status === "timed out" && sample && !limits.has(sample.task.id)) {
      undecided.set(line, { sample, verdict });
      return;
    }
    undecided.delete(line);
    journal.record({ line, result: verdict.result, passed: verdict.passed });
    if (verdict.passed) passed++;
    report();
  };
  report();

  const batchSize = options.batchSize ?? BATCH_SIZE;
  const runAll = async (pending: readonly Sample[]) => {
    for (let start = 0; start < pending.length && !options.signal?.aborted; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const programs = await programsFor(batch, options.sanitize === true, limitOf);
      const verdicts = await sandbox.run(programs, { workers: options.workers, signal: options.signal, onVerdict: record });
      verdicts.forEach(record); // a sandbox that reports only at the end is fine too
    }
  };
  try {
    await runAll(samples.filter((sample) => !journal.finished.has(sample.line)));
    if (onDemand && undecided.size > 0 && !options.signal?.aborted) {
      const timedOut = [...undecided.values()];
      for (const [id, limit] of await onDemand.measure([...new Set(timedOut.map(({ sample }) => sample.task))])) limits.set(id, limit);
      // Under a limit no longer than the floor a program times out as it did: its verdict stands.
      const longer = (sample: Sample) => limitOf(sample.task) > onDemand.floorSeconds;
      for (const { sample, verdict } of timedOut) if (!longer(sample)) record(verdict);
      await runAll(timedOut.map(({ sample }) => sample).filter(longer));
    }
  } finally {
    await writeResultsFile(resultsFile, samples, journal.finished);
  }

  const complete = journal.finished.size === samples.length;
  if (complete) journal.remove();
  return {
    passAtK: complete ? passAtK(talliesByTask(samples, journal.finished), options.ks ?? DEFAULT_KS) : {},
    resultsFile,
    samples: samples.length,
    evaluated: journal.finished.size,
    resumed,
    passed,
    tasks: sampledTasks.length,
    complete,
    verdicts: journal.finished,
  };
}

async function programsFor(batch: readonly Sample[], sanitize: boolean, limitOf: (task: Task) => number): Promise<Program[]> {
  const codes = await judgedCodes(batch, sanitize);
  return batch.map((sample, i) => ({
    id: String(sample.line),
    ...verdictProgram({ ...sample.task, prompt: promptFor(sample) }, codes[i]!, sample.task.prompt),
    timeoutSeconds: limitOf(sample.task),
  }));
}

/** What a sample's code is appended to: a "solution" is a whole program, so it replaces the prompt. */
export function promptFor(sample: Sample): string {
  return sample.kind === "solution" ? "" : sample.task.prompt;
}

/** The code the sandbox judges for each sample: as written, or what the sanitizer extracts. */
export async function judgedCodes(samples: readonly Sample[], sanitize: boolean): Promise<string[]> {
  if (!sanitize) return samples.map((sample) => sample.code);
  const results = await sanitizeCompletions(samples.map((s) => ({ prompt: promptFor(s), entryPoint: s.task.entryPoint, output: s.code })));
  return results.map((result) => result.completion);
}

function talliesByTask(samples: readonly Sample[], verdicts: ReadonlyMap<number, { passed: boolean }>): TaskTally[] {
  const tallies = new Map<string, TaskTally>();
  for (const sample of samples) {
    const tally = tallies.get(sample.task.id) ?? { total: 0, correct: 0 };
    tally.total++;
    if (verdicts.get(sample.line)?.passed) tally.correct++;
    tallies.set(sample.task.id, tally);
  }
  return [...tallies.values()];
}

/** Everything a verdict depends on; journaled verdicts are reused only when it is unchanged. */
async function settingsKey(samplesFile: string, tasks: readonly Task[], limitOf: (task: Task) => number | string, sandboxName: string, sanitize: boolean): Promise<string> {
  const hash = createHash("sha256").update(await readFile(samplesFile));
  for (const task of tasks) hash.update(JSON.stringify([task.id, task.prompt, task.hiddenTest, task.entryPoint, limitOf(task)]));
  hash.update(JSON.stringify({ sandboxName, sanitize }));
  return hash.digest("hex").slice(0, 32);
}
