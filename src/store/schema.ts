import type Database from "better-sqlite3";
import { KoderzError } from "../errors.js";

/**
 * The store's schema as an ordered list of migrations. A database remembers which versions it
 * has applied (table schema_version), so opening an older file upgrades it in place and a
 * newer file is refused instead of being misread. Never edit a released migration: append one.
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
        importance  REAL,
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
        cost_usd      REAL NOT NULL,
        wall_seconds  REAL NOT NULL,
        final_code    TEXT,
        verdict       TEXT,
        category      TEXT,
        importance    REAL,
        committed_at  TEXT NOT NULL,
        -- One verdict per problem and arm: what makes --resume count nothing twice.
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
        visible_pass_fraction REAL,
        input_tokens          INTEGER NOT NULL,
        output_tokens         INTEGER NOT NULL,
        cost_usd              REAL NOT NULL,
        latency_ms            REAL NOT NULL,
        PRIMARY KEY (experiment_id, step_index)
      );
      CREATE INDEX steps_by_model ON steps(model);

      -- experiment_id has no foreign key on purpose: calls are logged while an experiment is
      -- still running, before its row is committed (and a killed experiment never gets one).
      CREATE TABLE model_calls (
        call_id       INTEGER PRIMARY KEY AUTOINCREMENT,
        request_hash  TEXT NOT NULL,
        run_id        TEXT REFERENCES runs(run_id) ON DELETE CASCADE,
        experiment_id TEXT,
        model         TEXT NOT NULL,
        request       TEXT NOT NULL,
        response      TEXT,
        input_tokens  INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd      REAL NOT NULL,
        latency_ms    REAL NOT NULL,
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
    `,
  },
  {
    version: 2,
    sql: `
      -- Suites beyond HumanEval: which suite and tier a problem came from (category already
      -- exists), and a rubric's 1-5 score with how each criterion fared (JSON).
      ALTER TABLE experiments ADD COLUMN suite TEXT;
      ALTER TABLE experiments ADD COLUMN tier TEXT;
      ALTER TABLE experiments ADD COLUMN score REAL;
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
      -- Who took a step and what it did were one column, agent: "Coder", "Coder:edit", "run_tests",
      -- "Judge". Now agent is one of the five agents, or "koderz" for the steps koderz takes itself
      -- (its own test runs, the grader's judge), and action is what the step did: "model" (a model
      -- call), the tool an agent called ("edit", "run_tests" ...), koderz's "run_tests" or "judge".
      ALTER TABLE steps ADD COLUMN action TEXT NOT NULL DEFAULT 'model';
      UPDATE steps SET agent = substr(agent, 1, instr(agent, ':') - 1), action = substr(agent, instr(agent, ':') + 1) WHERE instr(agent, ':') > 0;
      UPDATE steps SET agent = 'koderz', action = 'judge' WHERE agent = 'Judge';
      UPDATE steps SET agent = 'koderz', action = agent WHERE agent NOT IN ('Planner', 'Coder', 'Tester', 'Debugger', 'Reviewer', 'koderz');
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Brings the database up to the latest schema; idempotent, and safe when two processes open a new file at once. */
export function migrate(db: Database.Database, location: string): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  const upgrade = db.transaction(() => {
    const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as { version: number | null };
    const current = row.version ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw new KoderzError(
        "bad_input",
        `the store ${location} has schema version ${current}, newer than this koderz understands (${LATEST_SCHEMA_VERSION})`,
        "upgrade koderz, or point --db / KODERZ_DB at another file",
      );
    }
    const record = db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)");
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, new Date().toISOString());
    }
  });
  // IMMEDIATE takes the write lock before reading the version, so two processes cannot both migrate.
  upgrade.immediate();
}

export function schemaVersion(db: Database.Database): number {
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as { version: number | null };
  return row.version ?? 0;
}
