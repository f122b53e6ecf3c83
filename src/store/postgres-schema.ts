import type { PoolClient } from "pg";
import { KoderzError } from "../errors.js";

/**
 * The PostgreSQL engine's schema as ordered migrations, like the SQLite one (src/store/schema.ts):
 * the same tables and keys, in PostgreSQL's types (DOUBLE PRECISION where SQLite has REAL, so
 * costs round-trip exactly; times stay ISO-8601 TEXT so both engines sort and print them alike).
 * Never edit a released migration: append one.
 */
interface Migration {
  version: number;
  sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        mode        TEXT NOT NULL,
        stage       TEXT,
        label       TEXT,
        category    TEXT,
        importance  DOUBLE PRECISION,
        status      TEXT NOT NULL,
        start_time  TEXT NOT NULL,
        end_time    TEXT,
        config_json TEXT NOT NULL
      );

      CREATE TABLE experiments (
        experiment_id TEXT PRIMARY KEY,
        run_id        TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        arm           TEXT NOT NULL,
        problem_id    TEXT NOT NULL,
        success       INTEGER NOT NULL CHECK (success IN (0, 1)),
        iterations    INTEGER NOT NULL,
        input_tokens  INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd      DOUBLE PRECISION NOT NULL,
        wall_seconds  DOUBLE PRECISION NOT NULL,
        final_code    TEXT,
        verdict       TEXT,
        category      TEXT,
        importance    DOUBLE PRECISION,
        committed_at  TEXT NOT NULL,
        -- One verdict per problem and arm: what makes --resume and a retried job count nothing twice.
        UNIQUE (run_id, arm, problem_id)
      );

      CREATE TABLE steps (
        experiment_id         TEXT NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
        step_index            INTEGER NOT NULL,
        agent                 TEXT NOT NULL,
        model                 TEXT,
        prompt                TEXT,
        response              TEXT,
        code                  TEXT,
        test_output           TEXT,
        visible_pass_fraction DOUBLE PRECISION,
        input_tokens          INTEGER NOT NULL,
        output_tokens         INTEGER NOT NULL,
        cost_usd              DOUBLE PRECISION NOT NULL,
        latency_ms            DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (experiment_id, step_index)
      );
      CREATE INDEX steps_by_model ON steps(model);

      -- No foreign key on experiment_id: calls are logged while the experiment still runs.
      CREATE TABLE model_calls (
        call_id       BIGSERIAL PRIMARY KEY,
        request_hash  TEXT NOT NULL,
        run_id        TEXT REFERENCES runs(run_id) ON DELETE CASCADE,
        experiment_id TEXT,
        model         TEXT NOT NULL,
        request       TEXT NOT NULL,
        response      TEXT,
        input_tokens  INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd      DOUBLE PRECISION NOT NULL,
        latency_ms    DOUBLE PRECISION NOT NULL,
        error         TEXT,
        created_at    TEXT NOT NULL
      );
      CREATE INDEX model_calls_by_hash ON model_calls(request_hash, call_id);
      CREATE INDEX model_calls_by_run ON model_calls(run_id);

      CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        tag    TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      );
      CREATE INDEX run_tags_by_tag ON run_tags(tag);

      CREATE TABLE experiment_tags (
        experiment_id TEXT NOT NULL REFERENCES experiments(experiment_id) ON DELETE CASCADE,
        tag           TEXT NOT NULL,
        PRIMARY KEY (experiment_id, tag)
      );
      CREATE INDEX experiment_tags_by_tag ON experiment_tags(tag);

      -- Queued problems that failed on their last attempt, so results show can name them and why.
      CREATE TABLE job_failures (
        run_id     TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        arm        TEXT NOT NULL,
        problem_id TEXT NOT NULL,
        attempts   INTEGER NOT NULL,
        error      TEXT NOT NULL,
        failed_at  TEXT NOT NULL,
        PRIMARY KEY (run_id, arm, problem_id)
      );

      -- One row per model whose calls are paced across all workers (see src/queue/model-rate-limit.ts):
      -- the limit, and when the next call may start.
      CREATE TABLE model_rate_limits (
        model            TEXT PRIMARY KEY,
        calls_per_minute DOUBLE PRECISION NOT NULL CHECK (calls_per_minute > 0),
        next_call_at     TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- Suites beyond HumanEval: which suite and tier a problem came from (category already
      -- exists), and a rubric's 1-5 score with how each criterion fared (JSON).
      ALTER TABLE experiments ADD COLUMN suite TEXT;
      ALTER TABLE experiments ADD COLUMN tier TEXT;
      ALTER TABLE experiments ADD COLUMN score DOUBLE PRECISION;
      ALTER TABLE experiments ADD COLUMN score_criteria TEXT;
      CREATE INDEX experiments_by_category ON experiments(run_id, category);
    `,
  },
  {
    version: 3,
    sql: `
      -- What the sandbox measured beyond the verdict (JSON): the final code's cyclomatic
      -- complexity and maintainability index, and in deep runs the drafts' outputs on generated inputs.
      ALTER TABLE experiments ADD COLUMN measures TEXT;
    `,
  },
  {
    version: 4,
    sql: `
      -- A step's agent and action, apart (they were one column): as SQLite's version 4 (schema.ts).
      ALTER TABLE steps ADD COLUMN action TEXT NOT NULL DEFAULT 'model';
      UPDATE steps SET agent = split_part(agent, ':', 1), action = substr(agent, strpos(agent, ':') + 1) WHERE strpos(agent, ':') > 0;
      UPDATE steps SET agent = 'koderz', action = 'judge' WHERE agent = 'Judge';
      UPDATE steps SET agent = 'koderz', action = agent WHERE agent NOT IN ('Planner', 'Coder', 'Tester', 'Debugger', 'Reviewer', 'koderz');
    `,
  },
];

export const LATEST_POSTGRES_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** An arbitrary constant: the advisory lock that makes one process migrate while others wait. */
const MIGRATION_LOCK = 7_163_902;

/** Brings the database up to the latest schema; idempotent, and safe when many workers start at once. */
export async function migratePostgres(client: PoolClient, location: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS koderz_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    const current = await postgresSchemaVersion(client);
    if (current > LATEST_POSTGRES_SCHEMA_VERSION) {
      throw new KoderzError(
        "bad_input",
        `the store ${location} has schema version ${current}, newer than this koderz understands (${LATEST_POSTGRES_SCHEMA_VERSION})`,
        "upgrade koderz on this machine, or point --db / KODERZ_DB at another database",
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO koderz_schema_version (version, applied_at) VALUES ($1, $2)", [
        migration.version,
        new Date().toISOString(),
      ]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export async function postgresSchemaVersion(client: Pick<PoolClient, "query">): Promise<number> {
  const exists = await client.query<{ present: boolean }>("SELECT to_regclass('koderz_schema_version') IS NOT NULL AS present");
  if (!exists.rows[0]?.present) return 0;
  const row = await client.query<{ version: number | null }>("SELECT MAX(version) AS version FROM koderz_schema_version");
  return row.rows[0]?.version ?? 0;
}
