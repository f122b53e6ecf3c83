import type PgBoss from "pg-boss";
import type pg from "pg";
import { z } from "zod";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { ModelConfig } from "../llm/index.js";
import { finishRunIfComplete, lockRunOutcomes, openStore, pairOutcome, PgStore, type ExperimentRecord, type StepRecord, type Store } from "../store/index.js";
import { EXPERIMENT_QUEUE, FAILED_QUEUE, JOB_FIELD_BYTES, openQueue, type ExperimentJob } from "./experiment-queue.js";
import { checkJob, clip, clipBytes, type RunPairs } from "./job-check.js";
import { loadRunContext, type RunContext } from "./run-context.js";
import { setModelRateLimit, withSharedRateLimit } from "./model-rate-limit.js";
import { runQueuedExperiment } from "./run-job.js";

export interface WorkerOptions {
  /** The shared database: store and queue. */
  url: string;
  /** Jobs run at once by this worker. */
  concurrency: number;
  openSandbox(): Promise<Sandbox>;
  modelConfig?: ModelConfig;
  /** Where repository suites' instances leave their patches and reports. */
  resultsDir: string;
  /** Per-model limits to set for every worker on the database (--rate-limit); limits already set stay. */
  rateLimits?: ReadonlyArray<{ model: string; callsPerMinute: number }>;
  log(message: string): void;
  /** Aborted: take no new job; the running ones finish and are committed. */
  stopTaking: AbortSignal;
  /** Aborted: stop the running jobs too and hand them back to the queue for another worker. */
  stopRunning: AbortSignal;
  /** Stop when no job is waiting and none runs here (benchmarks and tests). */
  exitWhenIdle?: boolean;
  /** How long to wait before asking again when the queue is empty. */
  pollMs?: number;
}

export interface WorkerStats {
  committed: number;
  failed: number;
  released: number;
}

const FailureOutput = z.union([
  z.object({ message: z.string() }),
  z.object({ value: z.object({ message: z.string() }) }),
]);

/**
 * `koderz worker`: takes experiment jobs from the queue, runs each with this machine's sandbox
 * and model backends, and commits the experiment together with its job's completion, in one
 * transaction. A worker killed mid-job commits nothing; its lease runs out and another worker
 * retries the job (the attempt is counted). A job that failed on its last attempt reaches the
 * dead-letter queue, and whichever worker takes it from there records the failure in the store.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerStats> {
  const boss = await openQueue(options.url);
  const engine = await PgStore.open(options.url);
  const store = openStore({ path: options.url });
  for (const limit of options.rateLimits ?? []) await setModelRateLimit(engine.pool, limit.model, limit.callsPerMinute);
  const sandbox = await options.openSandbox();
  options.log(`worker ${process.pid}: taking jobs, ${options.concurrency} at a time`);
  const contexts = new Map<string, Promise<RunContext>>();
  const stats: WorkerStats = { committed: 0, failed: 0, released: 0 };
  const contextFor = (runId: string): Promise<RunContext> => {
    let context = contexts.get(runId);
    if (!context) {
      context = loadRunContext(store.getRun(runId), {
        sandbox,
        modelConfig: options.modelConfig,
        wrapBackend: (backend) => withSharedRateLimit(backend, engine.pool),
      });
      // A failed load (a model that did not answer) is tried again by the next job of the run.
      context.catch(() => contexts.delete(runId));
      contexts.set(runId, context);
    }
    return context;
  };

  const running = new Set<Promise<void>>();
  try {
    while (!options.stopTaking.aborted) {
      // Not this worker's own job: a failure here is reported and tried again next time round.
      await recordFinalFailures(boss, engine, store, options.log).catch((error: unknown) =>
        options.log(`could not record failed jobs: ${error instanceof Error ? error.message : String(error)}`),
      );
      if (running.size >= options.concurrency) {
        await Promise.race(running);
        continue;
      }
      const [job] = await boss.fetch<unknown>(EXPERIMENT_QUEUE, { batchSize: 1, includeMetadata: true });
      if (!job) {
        if (options.exitWhenIdle && running.size === 0 && (await waitingJobs(boss)) === 0) break;
        await pause(options.pollMs ?? 500, options.stopTaking);
        continue;
      }
      const work = runJob(job).finally(() => running.delete(work));
      running.add(work);
    }
    await Promise.all(running);
    return stats;
  } finally {
    await sandbox.close();
    store.close();
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    await engine.close();
  }

  async function runJob(job: PgBoss.JobWithMetadata<unknown>): Promise<void> {
    const attempt = job.retryCount + 1;
    const attempts = job.retryLimit + 1;
    let data: ExperimentJob | undefined;
    try {
      const check = checkJob(job.data, (runId) => store.findRun(runId));
      if (!check.ok) {
        await rejectJob(engine, job, check);
        stats.failed += 1;
        options.log(`rejected job ${job.id}${check.runId ? ` of run ${check.runId}` : ""}: ${check.reason}; it will not be retried`);
        return;
      }
      data = check.job;
      const context = await contextFor(data.runId);
      const result = await runQueuedExperiment(data, context, { store, sandbox, resultsDir: options.resultsDir, log: options.log, signal: options.stopRunning });
      if (result.kind === "interrupted") {
        await boss.fail(EXPERIMENT_QUEUE, job.id, { message: "the worker was stopped (Ctrl-C) before the job finished" });
        stats.released += 1;
        options.log(`released ${describe(data)}: another worker will take it`);
        return;
      }
      const written = await commitJob(boss, engine, { jobId: job.id, ...data, attempt, pairs: check.pairs }, result.kind === "done" ? result : undefined);
      stats.committed += 1;
      const note = written === "failure-first" ? ": its final failure was recorded first and stands" : attempt > 1 ? ` (attempt ${attempt} of ${attempts})` : "";
      options.log(`committed ${describe(data)}${note}`);
    } catch (error) {
      const message = clip(error instanceof Error ? error.message : String(error), MESSAGE_CHARS);
      stats.failed += 1;
      options.log(`failed ${data ? describe(data) : `job ${job.id}`} (attempt ${attempt} of ${attempts}): ${clip(message, LOG_CHARS)}`);
      await boss.fail(EXPERIMENT_QUEUE, job.id, { message }).catch((failError: unknown) => {
        // The lease will run out and the job will be retried all the same.
        options.log(`could not mark the job failed: ${clip(failError instanceof Error ? failError.message : String(failError), LOG_CHARS)}`);
      });
    }
  }
}

/** The most of an error kept with a failed job, and the most of it a log line prints. */
const MESSAGE_CHARS = 2_000;
const LOG_CHARS = 300;

/**
 * Commits a job's experiment (none when an earlier attempt already did, or when the pair's
 * final failure committed first) and the job's completion in one transaction, and ends the run
 * when this was its last outcome: either all of it is in the database or none of it, so each
 * (arm, problem) pair has exactly one outcome.
 */
export async function commitJob(
  boss: PgBoss,
  engine: PgStore,
  job: ExperimentJob & { jobId: string; attempt: number; pairs: RunPairs },
  done?: { experiment: ExperimentRecord; steps: StepRecord[] },
): Promise<"written" | "already-done" | "failure-first"> {
  return engine.transaction(async (client) => {
    await lockRunOutcomes(client, job.runId);
    const before = await pairOutcome(client, job.runId, job.arm, job.problemId);
    if (done && before === undefined) await engine.writeExperiment(client, done.experiment, done.steps);
    await boss.complete(EXPERIMENT_QUEUE, job.jobId, { attempt: job.attempt }, { db: executorOf(client) });
    await finishRunIfComplete(client, job.runId, job.pairs);
    return before === "failure" ? "failure-first" : done && before === undefined ? "written" : "already-done";
  });
}

/**
 * Fails a job that is not fit to run, once: it is not retried nor dead-lettered, and when it
 * names a stored run, the rejection is recorded against that run (with 0 attempts: it is no
 * outcome of any of the run's problems, and results show lists it with its reason).
 */
async function rejectJob(engine: PgStore, job: PgBoss.JobWithMetadata<unknown>, check: { reason: string; runId?: string }): Promise<void> {
  const fields = typeof job.data === "object" && job.data !== null ? (job.data as Record<string, unknown>) : {};
  const field = (name: "arm" | "problemId") => clipBytes(typeof fields[name] === "string" && fields[name] !== "" ? fields[name] : "?", JOB_FIELD_BYTES[name]);
  await engine.transaction(async (client) => {
    if (check.runId) {
      await engine.writeJobFailure(client, {
        runId: check.runId,
        arm: field("arm"),
        problemId: field("problemId"),
        attempts: 0,
        error: `job ${job.id} rejected when taken: ${check.reason}`,
        failedAt: new Date().toISOString(),
      });
    }
    // Straight to failed: pg-boss's fail() would retry it and then dead-letter it.
    await client.query("UPDATE pgboss.job SET state = 'failed', completed_on = now(), output = $3::jsonb WHERE name = $1 AND id = $2", [
      EXPERIMENT_QUEUE,
      job.id,
      JSON.stringify({ message: `rejected: ${check.reason}` }),
    ]);
  });
}

/** Jobs that failed on their last attempt, from the dead-letter queue into the store (results show lists them). */
async function recordFinalFailures(boss: PgBoss, engine: PgStore, store: Store, log: (message: string) => void): Promise<void> {
  const jobs = await boss.fetch<unknown>(FAILED_QUEUE, { batchSize: 10, includeMetadata: true });
  for (const job of jobs) {
    const check = checkJob(job.data, (runId) => store.findRun(runId));
    if (!check.ok) {
      // A row no worker could have run (put in the dead-letter queue by hand): nothing to record.
      await boss.complete(FAILED_QUEUE, job.id, { dropped: check.reason });
      log(`dropped dead-lettered job ${job.id}: ${check.reason}`);
      continue;
    }
    const data = check.job;
    const output = FailureOutput.safeParse(job.output);
    const reason = output.success ? ("message" in output.data ? output.data.message : output.data.value.message) : "unknown error";
    const error = /failed by timeout/.test(reason) ? "the worker running it stopped answering (its lease ran out)" : clip(reason, MESSAGE_CHARS);
    const recorded = await engine.transaction(async (client) => {
      await lockRunOutcomes(client, data.runId);
      // A late attempt that committed its experiment first is the pair's outcome.
      const first = (await pairOutcome(client, data.runId, data.arm, data.problemId)) !== "verdict";
      if (first) await engine.writeJobFailure(client, { ...data, attempts: job.retryLimit + 1, error, failedAt: new Date().toISOString() });
      await boss.complete(FAILED_QUEUE, job.id, {}, { db: executorOf(client) });
      await finishRunIfComplete(client, data.runId, check.pairs);
      return first;
    });
    log(recorded ? `gave up on ${describe(data)} after ${job.retryLimit + 1} attempts: ${clip(error, LOG_CHARS)}` : `${describe(data)} failed its last attempt after a late one committed its experiment: the experiment stands`);
  }
}

/** Jobs waiting or running anywhere (created, retry or active). */
async function waitingJobs(boss: PgBoss): Promise<number> {
  const result = await boss.getDb().executeSql(
    "SELECT COUNT(*) AS count FROM pgboss.job WHERE name = ANY($1::text[]) AND state < 'completed'",
    [[EXPERIMENT_QUEUE, FAILED_QUEUE]],
  );
  return Number((result.rows[0] as { count: string } | undefined)?.count ?? 0);
}

/** pg-boss's query executor over one client, so its completion joins that client's transaction. */
function executorOf(client: pg.PoolClient): PgBoss.Db {
  return { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
}

function describe(job: ExperimentJob): string {
  return `${clip(job.problemId, 80)} (${job.arm}, run ${job.runId})`;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
