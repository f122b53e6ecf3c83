import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { runnerSource } from "../../sandbox/runner-source.js";
import { userCacheDir } from "../../tasks/cache-dir.js";
import type { Task } from "../../tasks/task.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "./program.js";

/**
 * Per-task time limits scaled from the canonical solution's own run time, as EvalPlus does
 * (limit = max(min limit, gt_time_limit_factor x ground-truth time), factor 4). EvalPlus times
 * each test input; here the unit is the whole check() program, so the floor is the harness's
 * default timeout: limit = max(default, 4 x canonical program time). HumanEval+'s heavy inputs
 * then get room on a slow or busy machine, and light tasks keep the reference's 3 s.
 */
export const TIME_LIMIT_FACTOR = 4;

/** Generous, so a slow canonical program is measured rather than cut off. */
const MEASURE_TIMEOUT_SECONDS = 120;

export interface TimeLimitOptions {
  /** The floor of every limit, in seconds (default: the reference harness's 3 s). */
  defaultTimeoutSeconds?: number;
  factor?: number;
  /** Programs at a time while measuring (passed to the sandbox). */
  workers?: number;
  /** Where measurements are cached (default: the user cache dir). */
  cacheDir?: string;
  signal?: AbortSignal;
  /** Told when measuring starts and when a canonical solution does not pass. */
  onNotice?: (message: string) => void;
}

/**
 * Scaled limits found only where they can change a verdict. A program that ends within the
 * floor gets the same verdict under any limit at or above it, so an evaluation runs each
 * program with the limit known so far (a cached measurement, else the floor) and measures the
 * canonical solutions of just the tasks where a program ran out of the floor; those programs
 * then run again under their measured limit. Most samples end well within 3 s, so most
 * evaluations measure nothing (before, every task's canonical solution ran first: the work of
 * the evaluation itself, twice, for canonical samples).
 */
export interface OnDemandTimeLimits {
  floorSeconds: number;
  /** Limits known without running anything (cached measurements), by task id. */
  known(tasks: readonly Task[]): Promise<Map<string, number>>;
  /** Limits of these tasks, their canonical solutions measured where not cached. */
  measure(tasks: readonly Task[]): Promise<Map<string, number>>;
}

export function onDemandTimeLimits(sandbox: Sandbox, options: TimeLimitOptions = {}): OnDemandTimeLimits {
  const floorSeconds = options.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const factor = options.factor ?? TIME_LIMIT_FACTOR;
  return {
    floorSeconds,
    known: async (tasks) => {
      const cached = await canonicalRunTimes(tasks, sandbox, { ...options, cachedOnly: true });
      return limitsFromRunTimes(
        tasks.filter((task) => cached.has(task.id)),
        cached,
        floorSeconds,
        factor,
      );
    },
    measure: (tasks) => scaledTimeLimits(tasks, sandbox, options),
  };
}

/** Time limit in seconds for each task id. */
export async function scaledTimeLimits(tasks: readonly Task[], sandbox: Sandbox, options: TimeLimitOptions = {}): Promise<Map<string, number>> {
  const measured = await canonicalRunTimes(tasks, sandbox, options);
  return limitsFromRunTimes(tasks, measured, options.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, options.factor ?? TIME_LIMIT_FACTOR);
}

/** max(floor, factor x canonical seconds), rounded up to a tenth; the floor when not measured. */
export function limitsFromRunTimes(tasks: readonly Task[], runSeconds: ReadonlyMap<string, number>, floorSeconds: number, factor: number): Map<string, number> {
  const limits = new Map<string, number>();
  for (const task of tasks) {
    const seconds = runSeconds.get(task.id);
    const scaled = seconds === undefined ? floorSeconds : Math.ceil(factor * seconds * 10) / 10;
    limits.set(task.id, Math.max(floorSeconds, scaled));
  }
  return limits;
}

const CacheFile = z.object({
  version: z.literal(1),
  sandbox: z.string(),
  /** Seconds the canonical program took, by the hash of the task's content. */
  seconds: z.record(z.string(), z.number().nonnegative()),
});
type CacheFile = z.infer<typeof CacheFile>;

/**
 * The canonical programs' run times in this sandbox, in seconds, by task id. Measured once and
 * cached per sandbox name and runner version, keyed by a hash of each task's content (so an edited dataset, or a
 * new one, is measured afresh, and any subset of a known suite costs nothing).
 */
export async function canonicalRunTimes(
  tasks: readonly Task[],
  sandbox: Sandbox,
  options: TimeLimitOptions & { cachedOnly?: boolean } = {},
): Promise<Map<string, number>> {
  // A new runner judges at another cost: its measurements start afresh.
  const runnerVersion = createHash("sha256").update(runnerSource()).digest("hex").slice(0, 12);
  const file = path.join(options.cacheDir ?? path.join(userCacheDir(), "time-limits"), `${sandbox.name}-${runnerVersion}.json`);
  const cache = await readCache(file, sandbox.name);
  const hashOf = new Map(tasks.map((task) => [task.id, taskHash(task)]));
  const missing = tasks.filter((task) => cache.seconds[hashOf.get(task.id)!] === undefined);

  if (missing.length > 0 && !options.cachedOnly) {
    options.onNotice?.(`measuring ${missing.length} canonical solution(s) in the ${sandbox.name} sandbox to scale time limits (cached afterwards)`);
    const verdicts = await sandbox.run(
      missing.map((task) => ({ id: task.id, ...verdictProgram(task, task.canonicalSolution), timeoutSeconds: MEASURE_TIMEOUT_SECONDS })),
      { workers: options.workers, signal: options.signal },
    );
    for (const verdict of verdicts) {
      if (verdict.passed) cache.seconds[hashOf.get(verdict.id)!] = verdict.durationMs / 1000;
      else options.onNotice?.(`the canonical solution of ${verdict.id} did not pass in the ${sandbox.name} sandbox (${verdict.result}); it keeps the default limit`);
    }
    await writeCache(file, cache);
  }

  const result = new Map<string, number>();
  for (const task of tasks) {
    const seconds = cache.seconds[hashOf.get(task.id)!];
    if (seconds !== undefined) result.set(task.id, seconds);
  }
  return result;
}

function taskHash(task: Task): string {
  return createHash("sha256")
    .update(JSON.stringify([task.id, task.prompt, task.canonicalSolution, task.hiddenTest, task.entryPoint]))
    .digest("hex")
    .slice(0, 32);
}

async function readCache(file: string, sandbox: string): Promise<CacheFile> {
  try {
    const parsed = CacheFile.safeParse(JSON.parse(await readFile(file, "utf8")));
    if (parsed.success && parsed.data.sandbox === sandbox) return parsed.data;
  } catch {
    // missing or unreadable: measure again
  }
  return { version: 1, sandbox, seconds: {} };
}

async function writeCache(file: string, cache: CacheFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(cache, null, 1));
  await rename(partial, file);
}
