import type pg from "pg";
import { KoderzError } from "../errors.js";
import type { LoggedCall } from "../llm/types.js";
import type { CallLogOptions } from "./call-log.js";
import type { ArmTotals, ExperimentFilter, JobFailure, RunFilter } from "./engine.js";
import { compareProblemIds } from "./problem-order.js";
import type { ExperimentRecord, ModelCallRecord, RunRecord, RunStatus, StepRecord, StoredMeasures, Tag } from "./records.js";
import { experimentFromRow, modelCallFromRow, nullable, runFromRow, stepFromRow } from "./rows.js";
import { automaticRunTags, calledModelTags, checkTags, experimentNotFound, runNotFound } from "./run-rules.js";
import { isLostConnection, retryWhileUnreachable } from "./postgres-connection-errors.js";
import { migratePostgres, postgresSchemaVersion } from "./postgres-schema.js";

/** Who holds a run's lock: the process (pid on host) and when its connection began. */
export interface RunHolder {
  pid: number;
  host: string;
  since: string;
}

/** The first key of koderz's advisory locks (the second is the run id's hash), so they do not meet other applications'. */
const RUN_LOCK_SPACE = 0x6b6f6472; // "kodr"

/** A pool, or one client inside a transaction someone else opened (the queue worker's). */
export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

// Binary ("C") collation wherever SQL orders text, so both engines list in the same order
// whatever locale the PostgreSQL cluster was created with.
const RUN_COLUMNS = `r.run_id, r.kind, r.mode, r.stage, r.label, r.category, r.importance, r.status,
  r.start_time, r.end_time, r.config_json,
  (SELECT string_agg(tag, chr(31)) FROM run_tags WHERE run_id = r.run_id) AS tags`;

const EXPERIMENT_COLUMNS = `e.experiment_id, e.run_id, e.arm, e.problem_id, e.success, e.iterations,
  e.input_tokens, e.output_tokens, e.cost_usd, e.wall_seconds, e.final_code, e.verdict, e.category,
  e.importance, e.suite, e.tier, e.score, e.score_criteria, e.measures, (SELECT string_agg(tag, chr(31)) FROM experiment_tags WHERE experiment_id = e.experiment_id) AS tags`;

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/**
 * The PostgreSQL engine, asynchronous as its driver is. The CLI reaches it through
 * PostgresStore (the synchronous Store interface); the queue worker uses it directly, so that
 * an experiment and its job's completion commit in one transaction.
 */
export class PgStore {
  /** The connections holding run locks (see lockRun), by run. */
  private readonly runLocks = new Map<string, pg.PoolClient>();

  private constructor(
    readonly pool: pg.Pool,
    readonly path: string,
  ) {}

  static async open(url: string, options: { mustExist?: boolean; maxConnections?: number } = {}): Promise<PgStore> {
    const location = redactedUrl(url);
    // Loaded here, not at the top: a run on SQLite never pays for the PostgreSQL client.
    const { Pool } = (await import("pg")).default;
    const pool = new Pool({ connectionString: url, max: options.maxConnections ?? 4 });
    // An idle connection dies when the server restarts; the pool drops it and the next query
    // opens a new one, so this event needs no action beyond not crashing the process.
    pool.on("error", () => undefined);
    try {
      const client = await retryWhileUnreachable(() => pool.connect(), 5_000).catch((error: unknown) => {
        throw new KoderzError(
          "bad_input",
          `cannot reach the PostgreSQL store ${location}: ${error instanceof Error ? error.message : String(error)}`,
          "check that PostgreSQL runs and the URL (host, port, user, password, database) is right",
        );
      });
      try {
        if (options.mustExist && (await postgresSchemaVersion(client)) === 0) {
          throw new KoderzError("not_found", `no koderz store in ${location}`, "run `koderz benchmark --db URL` first, or point --db / KODERZ_DB at an existing store");
        }
        await migratePostgres(client, location);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PgStore(pool, location);
  }

  async close(): Promise<void> {
    for (const client of this.runLocks.values()) client.release(true);
    this.runLocks.clear();
    await this.pool.end();
  }

  /**
   * Takes the run's advisory lock on a connection kept for it: the lock lives as long as that
   * session, so a holder killed with -9 lets go when the server sees its connection close. The
   * connection is named after its process (application_name), which is how a refused process
   * learns the holder.
   */
  async lockRun(runId: string, me: { pid: number; host: string }): Promise<{ locked: true } | { locked: false; holder?: RunHolder }> {
    const client = await retryWhileUnreachable(() => this.pool.connect());
    try {
      await client.query("SELECT set_config('application_name', $1, false)", [`koderz ${me.pid}@${me.host}`]);
      const key = await client.query<{ key: number }>("SELECT hashtext($1) AS key", [runId]);
      const taken = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [RUN_LOCK_SPACE, key.rows[0]!.key]);
      if (taken.rows[0]!.locked) {
        // A database restart ends the session and so the lock (the run goes on unlocked); the
        // connection's error then must not end the process.
        client.on("error", () => undefined);
        this.runLocks.set(runId, client);
        return { locked: true };
      }
      // objid is the key's 32 bits read as unsigned.
      const holders = await client.query<{ name: string; since: Date }>(
        `SELECT a.application_name AS name, a.backend_start AS since FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2`,
        [RUN_LOCK_SPACE, key.rows[0]!.key >>> 0],
      );
      client.release();
      const holder = holders.rows[0];
      const named = holder && /^koderz (\d+)@(.+)$/.exec(holder.name);
      return named ? { locked: false, holder: { pid: Number(named[1]), host: named[2]!, since: holder.since.toISOString() } } : { locked: false };
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  async unlockRun(runId: string): Promise<void> {
    // Ending the session frees the lock; the pool opens a fresh connection when it needs one.
    this.runLocks.get(runId)?.release(true);
    this.runLocks.delete(runId);
  }

  private query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return retryWhileUnreachable(() => this.pool.query<R>(sql, params));
  }

  /** Runs `work` in one transaction, again from the start on a new connection if the database went away. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return retryWhileUnreachable(async () => {
      const client = await this.pool.connect();
      let lost = false;
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        lost = isLostConnection(error);
        if (!lost) await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release(lost);
      }
    });
  }

  // ── runs ────────────────────────────────────────────────────────────────────────────────

  async createRun(run: RunRecord): Promise<void> {
    checkTags(run.tags);
    await this.transaction(async (client) => {
      const inserted = await client.query(
        `INSERT INTO runs (run_id, kind, mode, stage, label, category, importance, status, start_time, end_time, config_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (run_id) DO NOTHING`,
        [
          run.runId,
          run.kind,
          run.mode,
          nullable(run.stage),
          nullable(run.label),
          nullable(run.category),
          nullable(run.importance),
          run.status,
          run.startTime,
          nullable(run.endTime),
          JSON.stringify(run.config),
        ],
      );
      if (inserted.rowCount === 0) {
        throw new KoderzError("bad_input", `run ${run.runId} already exists`, `continue it with --resume ${run.runId}, or start a new run`);
      }
      await insertRunTags(client, run.runId, [...run.tags, ...automaticRunTags(run)]);
    });
  }

  async finishRun(runId: string, status: RunStatus, endTime: string = new Date().toISOString()): Promise<void> {
    const result = await this.query("UPDATE runs SET status = $1, end_time = $2 WHERE run_id = $3", [status, endTime, runId]);
    if (result.rowCount === 0) throw runNotFound(runId);
  }

  async reopenRun(runId: string): Promise<void> {
    const result = await this.query("UPDATE runs SET status = 'running', end_time = NULL WHERE run_id = $1", [runId]);
    if (result.rowCount === 0) throw runNotFound(runId);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.findRun(runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  async findRun(runId: string): Promise<RunRecord | undefined> {
    return retryWhileUnreachable(() => findRunIn(this.pool, runId));
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}::text`;
    };
    for (const tag of filter.tags ?? []) {
      // A bare tag matches "key:<tag>" too; a tag with a colon must match exactly.
      const t = param(tag);
      const matches = `(t.tag = ${t} OR (position(':' in ${t}) = 0 AND right(t.tag, length(${t}) + 1) = ':' || ${t}))`;
      where.push(`(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.run_id AND ${matches})
        OR EXISTS (SELECT 1 FROM experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id
                   WHERE e.run_id = r.run_id AND ${matches}))`);
    }
    if (filter.model !== undefined) {
      const m = param(filter.model);
      where.push(`(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.run_id AND t.tag = 'model:' || ${m})
        OR EXISTS (SELECT 1 FROM steps s JOIN experiments e ON e.experiment_id = s.experiment_id
                   WHERE e.run_id = r.run_id AND s.model = ${m})
        OR EXISTS (SELECT 1 FROM model_calls c WHERE c.run_id = r.run_id AND c.model = ${m}))`);
    }
    if (filter.problem !== undefined) {
      where.push(`EXISTS (SELECT 1 FROM experiments e WHERE e.run_id = r.run_id AND e.problem_id = ${param(filter.problem)})`);
    }
    if (filter.suite !== undefined) {
      const suite = param(filter.suite);
      where.push(`((r.config_json::jsonb ->> 'suite') = ${suite} OR EXISTS (SELECT 1 FROM experiments e WHERE e.run_id = r.run_id AND e.suite = ${suite}))`);
    }
    for (const column of ["kind", "mode", "stage", "label", "status"] as const) {
      const value = filter[column];
      if (value !== undefined) where.push(`r.${column} = ${param(value)}`);
    }
    const sql = `SELECT ${RUN_COLUMNS} FROM runs r ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY r.start_time COLLATE "C", r.run_id COLLATE "C"`;
    const result = await this.query(sql, params);
    return result.rows.map((row) => runFromRow(row));
  }

  async setStage(runId: string, stage: string | undefined): Promise<void> {
    const result = await this.query("UPDATE runs SET stage = $1 WHERE run_id = $2", [nullable(stage), runId]);
    if (result.rowCount === 0) throw runNotFound(runId);
  }

  async addTags(runId: string, tags: Tag[]): Promise<void> {
    checkTags(tags);
    await this.transaction(async (client) => {
      if (!(await findRunIn(client, runId))) throw runNotFound(runId);
      await insertRunTags(client, runId, tags);
    });
  }

  // ── experiments ─────────────────────────────────────────────────────────────────────────

  async recordExperiment(experiment: ExperimentRecord, steps: readonly StepRecord[]): Promise<boolean> {
    return this.transaction((client) => this.writeExperiment(client, experiment, steps));
  }

  /**
   * Writes one experiment inside the caller's open transaction (the queue worker commits it
   * with its job's completion). False, and nothing written, when the (run, arm, problem)
   * already has a verdict: the first committed one stands.
   */
  async writeExperiment(client: pg.PoolClient, experiment: ExperimentRecord, steps: readonly StepRecord[]): Promise<boolean> {
    checkTags(experiment.tags);
    for (const step of steps) {
      if (step.experimentId !== experiment.experimentId) {
        throw new KoderzError("internal", `step ${step.index} belongs to experiment ${step.experimentId}, not ${experiment.experimentId}`);
      }
    }
    if (!(await findRunIn(client, experiment.runId))) throw runNotFound(experiment.runId);
    const inserted = await client.query(
      `INSERT INTO experiments (experiment_id, run_id, arm, problem_id, success, iterations, input_tokens,
         output_tokens, cost_usd, wall_seconds, final_code, verdict, category, importance, committed_at,
             suite, tier, score, score_criteria, measures)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
       ON CONFLICT (run_id, arm, problem_id) DO NOTHING`,
      [
        experiment.experimentId,
        experiment.runId,
        experiment.arm,
        experiment.problemId,
        experiment.success ? 1 : 0,
        experiment.iterations,
        experiment.inputTokens,
        experiment.outputTokens,
        experiment.costUsd,
        experiment.wallSeconds,
        nullable(experiment.finalCode),
        nullable(experiment.verdict),
        nullable(experiment.category),
        nullable(experiment.importance),
        new Date().toISOString(),
        nullable(experiment.suite),
        nullable(experiment.tier),
        nullable(experiment.score),
        experiment.scoreCriteria ? JSON.stringify(experiment.scoreCriteria) : null,
          experiment.measures ? JSON.stringify(experiment.measures) : null,
      ],
    );
    if (inserted.rowCount === 0) return false;
    for (const step of steps) {
      await client.query(
        `INSERT INTO steps (experiment_id, step_index, agent, action, model, prompt, response, code, test_output,
           visible_pass_fraction, input_tokens, output_tokens, cost_usd, latency_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          experiment.experimentId,
          step.index,
          step.agent,
          step.action,
          nullable(step.model),
          nullable(step.prompt),
          nullable(step.response),
          nullable(step.code),
          nullable(step.testOutput),
          nullable(step.visiblePassFraction),
          step.inputTokens,
          step.outputTokens,
          step.costUsd,
          step.latencyMs,
        ],
      );
    }
    await insertRunTags(client, experiment.runId, calledModelTags(steps));
    const tags = [...experiment.tags, `arm:${experiment.arm}`, `problem:${experiment.problemId}`];
    await client.query(
      "INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
      [experiment.experimentId, tags],
    );
    return true;
  }

  async completedProblems(runId: string, arm: string): Promise<Set<string>> {
    const result = await this.query<{ problem_id: string }>("SELECT problem_id FROM experiments WHERE run_id = $1 AND arm = $2", [runId, arm]);
    return new Set(result.rows.map((row) => row.problem_id));
  }

  async experiments(runId: string, filter: ExperimentFilter = {}): Promise<ExperimentRecord[]> {
    const result = await this.query(
      `SELECT ${EXPERIMENT_COLUMNS} FROM experiments e
       WHERE e.run_id = $1 AND ($2::text IS NULL OR e.arm = $2) AND ($3::text IS NULL OR e.problem_id = $3)`,
      [runId, filter.arm ?? null, filter.problem ?? null],
    );
    return result.rows
      .map((row) => experimentFromRow(row))
      .sort((a, b) => (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : compareProblemIds(a.problemId, b.problemId)));
  }

  async setMeasures(experimentId: string, measures: StoredMeasures): Promise<void> {
    const result = await this.query("UPDATE experiments SET measures = $1 WHERE experiment_id = $2", [JSON.stringify(measures), experimentId]);
    if (result.rowCount === 0) throw experimentNotFound(experimentId);
  }

  async getExperiment(experimentId: string): Promise<ExperimentRecord | undefined> {
    const result = await this.query(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.experiment_id = $1`, [experimentId]);
    const row = result.rows[0];
    return row === undefined ? undefined : experimentFromRow(row);
  }

  async steps(experimentId: string): Promise<StepRecord[]> {
    const result = await this.query("SELECT * FROM steps WHERE experiment_id = $1 ORDER BY step_index", [experimentId]);
    return result.rows.map((row) => stepFromRow(row));
  }

  async armTotals(runId: string): Promise<ArmTotals[]> {
    // Casts keep sums JavaScript numbers: PostgreSQL returns bigint sums as strings.
    const result = await this.query<ArmTotals>(
      `SELECT arm, COUNT(*)::int AS experiments, SUM(success)::int AS successes, SUM(iterations)::float8 AS iterations,
         SUM(input_tokens)::float8 AS "inputTokens", SUM(output_tokens)::float8 AS "outputTokens",
         SUM(cost_usd) AS "costUsd", SUM(wall_seconds) AS "wallSeconds"
       FROM experiments WHERE run_id = $1 GROUP BY arm ORDER BY arm COLLATE "C"`,
      [runId],
    );
    return result.rows;
  }

  // ── model calls ─────────────────────────────────────────────────────────────────────────

  async recordCall(options: CallLogOptions, call: LoggedCall): Promise<void> {
    await this.query(
      `INSERT INTO model_calls (request_hash, run_id, experiment_id, model, request, response,
         input_tokens, output_tokens, cost_usd, latency_ms, error, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        call.requestHash,
        options.runId ?? null,
        options.experimentId ?? null,
        call.model,
        call.request,
        call.response ?? null,
        call.inputTokens,
        call.outputTokens,
        call.costUsd,
        call.latencyMs,
        call.error ?? null,
        call.createdAt,
      ],
    );
  }

  /** The newest successful logged answer to this request within the log's scope, as logged (JSON). */
  async lookupCall(options: CallLogOptions, requestHash: string): Promise<string | undefined> {
    const replayRunId = options.scope === "replay" ? (options.replayRunId ?? null) : null;
    const result = await this.query<{ response: string }>(
      `SELECT response FROM model_calls
       WHERE request_hash = $1 AND response IS NOT NULL AND error IS NULL AND ($2::text IS NULL OR run_id = $2)
       ORDER BY call_id DESC LIMIT 1`,
      [requestHash, replayRunId],
    );
    return result.rows[0]?.response;
  }

  async modelCalls(filter: { runId?: string; experimentId?: string }): Promise<ModelCallRecord[]> {
    const result = await this.query(
      `SELECT * FROM model_calls WHERE ($1::text IS NULL OR run_id = $1) AND ($2::text IS NULL OR experiment_id = $2) ORDER BY call_id`,
      [filter.runId ?? null, filter.experimentId ?? null],
    );
    return result.rows.map((row) => modelCallFromRow(row));
  }

  // ── queue failures ──────────────────────────────────────────────────────────────────────

  async jobFailures(runId: string): Promise<JobFailure[]> {
    const result = await this.query<{ run_id: string; arm: string; problem_id: string; attempts: number; error: string; failed_at: string }>(
      "SELECT run_id, arm, problem_id, attempts, error, failed_at FROM job_failures WHERE run_id = $1",
      [runId],
    );
    return result.rows
      .map((row) => ({ runId: row.run_id, arm: row.arm, problemId: row.problem_id, attempts: row.attempts, error: row.error, failedAt: row.failed_at }))
      .sort((a, b) => (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : compareProblemIds(a.problemId, b.problemId)));
  }

  /** Forgets a run's recorded job failures (a resumed run queues those problems again) and returns them. */
  async clearJobFailures(runId: string): Promise<JobFailure[]> {
    const failures = await this.jobFailures(runId);
    await this.query("DELETE FROM job_failures WHERE run_id = $1", [runId]);
    return failures;
  }

  /** Records a queued problem's last failure (inside the transaction that fails its job). */
  async writeJobFailure(client: pg.PoolClient, failure: JobFailure): Promise<void> {
    await client.query(
      `INSERT INTO job_failures (run_id, arm, problem_id, attempts, error, failed_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id, arm, problem_id) DO UPDATE SET attempts = EXCLUDED.attempts, error = EXCLUDED.error, failed_at = EXCLUDED.failed_at`,
      [failure.runId, failure.arm, failure.problemId, failure.attempts, failure.error, failure.failedAt],
    );
  }
}

/**
 * Marks a queued run finished (or failed, when one of its problems failed on every attempt) once
 * each of its own (arm, problem) pairs has an outcome: a verdict or a recorded final failure.
 * Only the run's own pairs count, so a stray row (a rejected job's record, a job edited to name
 * another problem) can never end a run early. Called inside the transaction that commits one
 * outcome, after `lockRunOutcomes`, so the last two concurrent commits see each other.
 */
export async function finishRunIfComplete(client: pg.PoolClient, runId: string, pairs: { arms: readonly string[]; problemIds: readonly string[] }): Promise<boolean> {
  await lockRunOutcomes(client, runId);
  const result = await client.query(
    `WITH own AS (SELECT a.arm, p.problem_id FROM unnest($3::text[]) AS a(arm) CROSS JOIN unnest($4::text[]) AS p(problem_id)),
     settled AS (
       SELECT own.arm, own.problem_id,
              EXISTS (SELECT 1 FROM experiments e WHERE e.run_id = $1 AND e.arm = own.arm AND e.problem_id = own.problem_id) AS verdict,
              EXISTS (SELECT 1 FROM job_failures f WHERE f.run_id = $1 AND f.arm = own.arm AND f.problem_id = own.problem_id AND f.attempts > 0) AS failure
       FROM own)
     UPDATE runs SET end_time = $2,
       status = CASE WHEN EXISTS (SELECT 1 FROM settled WHERE failure AND NOT verdict) THEN 'failed' ELSE 'finished' END
     WHERE run_id = $1 AND status = 'running' AND NOT EXISTS (SELECT 1 FROM settled WHERE NOT verdict AND NOT failure)`,
    [runId, new Date().toISOString(), pairs.arms, pairs.problemIds],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * Serializes the commits of one run's outcomes until the transaction ends: whichever of an
 * experiment and a final failure for the same pair commits first is its one outcome.
 */
export async function lockRunOutcomes(client: pg.PoolClient, runId: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [runId]);
}

/** What a (run, arm, problem) pair already has: a verdict, a final failure, or nothing yet. */
export async function pairOutcome(client: pg.PoolClient, runId: string, arm: string, problemId: string): Promise<"verdict" | "failure" | undefined> {
  const result = await client.query<{ verdict: boolean; failure: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM experiments WHERE run_id = $1 AND arm = $2 AND problem_id = $3) AS verdict,
            EXISTS (SELECT 1 FROM job_failures WHERE run_id = $1 AND arm = $2 AND problem_id = $3 AND attempts > 0) AS failure`,
    [runId, arm, problemId],
  );
  const row = result.rows[0];
  return row?.verdict ? "verdict" : row?.failure ? "failure" : undefined;
}

async function findRunIn(db: Queryable, runId: string): Promise<RunRecord | undefined> {
  const result = await db.query(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run_id = $1`, [runId]);
  const row = result.rows[0];
  return row === undefined ? undefined : runFromRow(row);
}

async function insertRunTags(client: pg.PoolClient, runId: string, tags: Tag[]): Promise<void> {
  await client.query("INSERT INTO run_tags (run_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING", [runId, tags]);
}
