import type { BenchmarkConfig } from "../orchestrator/benchmark-config.js";
import { armsFor } from "../orchestrator/benchmark-runner.js";
import type { RunRecord } from "../store/index.js";
import { ExperimentJobSchema, JOB_FIELD_BYTES, type ExperimentJob } from "./experiment-queue.js";
import { queuedRunConfig } from "./run-context.js";

/** The (arm, problem) pairs a queued run is made of: each has exactly one outcome when it ends. */
export interface RunPairs {
  arms: string[];
  problemIds: string[];
}

export type JobCheck =
  | { ok: true; job: ExperimentJob; pairs: RunPairs }
  /** `runId` is set when the job names a stored run: the rejection is recorded against it. */
  | { ok: false; reason: string; runId?: string };

/**
 * What a job row must be before a worker runs it. A job's data is read from a database other
 * processes (and people) write to, so it is checked when taken, not trusted: its fields within
 * size limits, its run stored, and its arm and problem the run's own.
 * `findRun` reads one run, undefined when there is none.
 */
export function checkJob(data: unknown, findRun: (runId: string) => RunRecord | undefined): JobCheck {
  const parsed = ExperimentJobSchema.safeParse(data);
  if (!parsed.success) {
    const runId = storedRunIdOf(data, findRun);
    const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message));
    return { ok: false, reason: `its data is not {runId, arm, problemId} within limits (${clip(problems.join("; "), 300)})`, ...(runId ? { runId } : {}) };
  }
  const job = parsed.data;
  const run = findRun(job.runId);
  if (!run) return { ok: false, reason: `it names run ${job.runId}, which the store does not have` };
  let pairs: RunPairs;
  try {
    pairs = pairsOfConfig(queuedRunConfig(run));
  } catch (error) {
    return { ok: false, reason: clip(error instanceof Error ? error.message : String(error), 300), runId: job.runId };
  }
  if (!pairs.arms.includes(job.arm)) return { ok: false, reason: `its arm ${job.arm} is not one of its run's (${pairs.arms.join(", ")})`, runId: job.runId };
  if (!pairs.problemIds.includes(job.problemId)) return { ok: false, reason: `its problem ${clip(job.problemId, 80)} is not one of its run's ${pairs.problemIds.length}`, runId: job.runId };
  return { ok: true, job, pairs };
}

/** The pairs of a stored run, or undefined when its config is not a queued benchmark's. */
export function runPairsOf(run: RunRecord): RunPairs | undefined {
  try {
    return pairsOfConfig(queuedRunConfig(run));
  } catch {
    return undefined;
  }
}

export function pairsOfConfig(config: Pick<BenchmarkConfig, "mode" | "problemIds">): RunPairs {
  return { arms: armsFor(config.mode).map((arm) => arm.arm), problemIds: [...config.problemIds] };
}

function storedRunIdOf(data: unknown, findRun: (runId: string) => RunRecord | undefined): string | undefined {
  if (typeof data !== "object" || data === null || !("runId" in data)) return undefined;
  const runId = (data as { runId: unknown }).runId;
  if (typeof runId !== "string" || Buffer.byteLength(runId, "utf8") > JOB_FIELD_BYTES.runId || runId === "") return undefined;
  return findRun(runId) ? runId : undefined;
}

/** A value cut for a log line or an error: never the whole of something a database row holds. */
export function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Cuts text to at most `bytes` UTF-8 bytes, on a character boundary (for a key column). */
export function clipBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= bytes) return text;
  let out = "";
  for (const char of text) {
    if (Buffer.byteLength(out + char, "utf8") > bytes - 3) break;
    out += char;
  }
  return `${out}…`;
}
