import { createHash } from "node:crypto";
import pg from "pg";
import PgBoss from "pg-boss";
import { z } from "zod";
import { KoderzError } from "../errors.js";
import { redactedUrl } from "../store/index.js";

/**
 * The job queue of a shared run: one pg-boss job per (run, arm, problem) in the same PostgreSQL
 * database as the store, so a worker can commit an experiment and its job's completion in one
 * transaction. A job that fails (an error, or a worker that stopped answering and let its lease
 * run out) is retried by any worker; after its last attempt pg-boss moves it to the dead-letter
 * queue, where a worker records the failure in the store for `results show`.
 */
export const EXPERIMENT_QUEUE = "koderz-experiment";
export const FAILED_QUEUE = "koderz-experiment-failed";

/** Three attempts in all: the first and two retries. */
export const JOB_RETRY_LIMIT = 2;
/** How long a worker may hold a job before it counts as lost and another takes it (--lease-seconds). */
export const DEFAULT_LEASE_SECONDS = 15 * 60;

/**
 * A job's fields, limited in bytes: its data is read from a database others write to, and
 * PostgreSQL refuses an index entry over ~2.7 kB, so a failure row for an oversized key could
 * never be written. Real ids are far shorter (HumanEval/163, django__django-11099).
 */
export const JOB_FIELD_BYTES = { runId: 128, arm: 64, problemId: 512 } as const;

const bounded = (field: keyof typeof JOB_FIELD_BYTES) =>
  z
    .string()
    .min(1, `${field} is empty`)
    .refine((text) => Buffer.byteLength(text, "utf8") <= JOB_FIELD_BYTES[field], `${field} is over ${JOB_FIELD_BYTES[field]} bytes`);

export const ExperimentJobSchema = z.object({ runId: bounded("runId"), arm: bounded("arm"), problemId: bounded("problemId") });
export type ExperimentJob = z.infer<typeof ExperimentJobSchema>;

/** Starts pg-boss on the database (creating its schema and the two queues on first use). */
export async function openQueue(url: string, options: { maintenanceSeconds?: number } = {}): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    // How often expired leases are noticed and retried; pg-boss runs it on one instance at a time.
    maintenanceIntervalSeconds: options.maintenanceSeconds ?? 10,
    // Only the queue's own maintenance: no cron scheduling, no state monitor.
    schedule: false,
  });
  // A dropped connection (a database restart) surfaces here; pg-boss and the pool reconnect on
  // their next query, so it is reported, not fatal.
  boss.on("error", (error: Error) => process.stderr.write(`queue: ${error.message}\n`));
  try {
    await oneAtATime(url, async () => {
      await boss.start();
      await boss.createQueue(FAILED_QUEUE);
      await boss.createQueue(EXPERIMENT_QUEUE, { name: EXPERIMENT_QUEUE, retryLimit: JOB_RETRY_LIMIT, deadLetter: FAILED_QUEUE });
    });
  } catch (error) {
    await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    throw new KoderzError(
      "bad_input",
      `cannot open the job queue in ${redactedUrl(url)}: ${error instanceof Error ? error.message : String(error)}`,
      "check that PostgreSQL runs and the --queue URL (host, port, user, password, database) is right",
    );
  }
  return boss;
}

/** An arbitrary constant: the advisory lock that lets one process at a time set the queue up. */
const QUEUE_SETUP_LOCK = 7_163_903;

/**
 * Runs the queue's set-up holding a session advisory lock: workers started together on a fresh
 * database would otherwise create pg-boss's schema and queues at once and deadlock.
 */
async function oneAtATime(url: string, setUp: () => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [QUEUE_SETUP_LOCK]);
    await setUp();
  } finally {
    // Ending the session lets the lock go.
    await client.end();
  }
}

/**
 * The id of the job for one (run, arm, problem). Deterministic, so enqueueing a run again
 * (--resume, or a second `benchmark --queue --resume`) adds nothing that is already queued:
 * pg-boss ignores a job whose id exists. `round` starts a fresh job after a final failure.
 */
export function jobIdFor(job: ExperimentJob, round = ""): string {
  const hex = createHash("sha256").update(`${job.runId}\u0000${job.arm}\u0000${job.problemId}\u0000${round}`).digest("hex");
  // A version-4-shaped UUID made from the hash (pg-boss ids are uuid columns).
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Queues the jobs, each with the lease a worker has to finish it; returns how many were new. */
export async function enqueueJobs(boss: PgBoss, jobs: ReadonlyArray<{ job: ExperimentJob; round?: string }>, leaseSeconds: number): Promise<number> {
  if (jobs.length === 0) return 0;
  const before = (await queuedIds(boss, jobs.map(({ job, round }) => jobIdFor(job, round)))).length;
  await boss.insert(
    jobs.map(({ job, round }) => ({
      id: jobIdFor(job, round),
      name: EXPERIMENT_QUEUE,
      data: job,
      retryLimit: JOB_RETRY_LIMIT,
      expireInSeconds: leaseSeconds,
      deadLetter: FAILED_QUEUE,
    })),
  );
  return jobs.length - before;
}

type QueueDb = { executeSql(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> };

/** Which of these job ids pg-boss already holds, in any state. */
export async function queuedIds(boss: PgBoss, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const db = boss.getDb() as QueueDb;
  const result = await db.executeSql("SELECT id::text AS id FROM pgboss.job WHERE id = ANY($1::uuid[])", [ids]);
  return result.rows.map((row) => String(row.id));
}

/**
 * The (arm, problem) pairs of a run that a live job names: waiting, retrying or running in the
 * experiment queue, or waiting in the dead-letter queue to be recorded as a failure. Read from
 * the jobs' data, so a job edited to name something else no longer holds its old pair.
 */
export async function heldPairs(boss: PgBoss, runId: string): Promise<Set<string>> {
  const db = boss.getDb() as QueueDb;
  const result = await db.executeSql(
    `SELECT data->>'arm' AS arm, data->>'problemId' AS problem_id FROM pgboss.job
     WHERE name = ANY($1::text[]) AND state < 'completed' AND data->>'runId' = $2`,
    [[EXPERIMENT_QUEUE, FAILED_QUEUE], runId],
  );
  return new Set(result.rows.map((row) => `${String(row.arm)}\u0000${String(row.problem_id)}`));
}
