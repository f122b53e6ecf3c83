import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { KoderzError } from "../errors.js";
import type { CallLog } from "../llm/types.js";
import { StoreCallLog, type CallLogOptions } from "./call-log.js";
import { resolveDbPath } from "./location.js";
import { migrate } from "./schema.js";
import { openReadOnlyDatabase } from "./read-only.js";
import { lockRun as lockRunByFile, type RunLock } from "./run-lock.js";
import { storageError, withStorageErrors } from "./storage-errors.js";
import { checkStoreFile } from "./store-file-check.js";
import { compareProblemIds } from "./problem-order.js";
import type { ExperimentRecord, ModelCallRecord, RunRecord, RunStatus, StepRecord, StoredMeasures, Tag } from "./records.js";
import { experimentFromRow, modelCallFromRow, nullable, runFromRow, stepFromRow } from "./rows.js";
import type { ArmTotals, ExperimentFilter, JobFailure, RunFilter, Store } from "./engine.js";
import { automaticRunTags, calledModelTags, checkTags, experimentNotFound, runNotFound } from "./run-rules.js";

// Modules that import the store's types from here keep working: they are the engines' interface.
export type { ArmTotals, ExperimentFilter, RunFilter, Store } from "./engine.js";

export interface OpenStoreOptions {
  /** The --db flag; falls back to KODERZ_DB, then results/koderz.db. */
  path?: string;
  /** For read-only commands: a missing file is a not_found error instead of a new empty store. */
  mustExist?: boolean;
  /** Opens the file read-only (implies mustExist): nothing is written, migrated or created. */
  readOnly?: boolean;
}

const RUN_COLUMNS = `r.run_id, r.kind, r.mode, r.stage, r.label, r.category, r.importance, r.status,
  r.start_time, r.end_time, r.config_json,
  (SELECT GROUP_CONCAT(tag, char(31)) FROM run_tags WHERE run_id = r.run_id) AS tags`;

const EXPERIMENT_COLUMNS = `e.experiment_id, e.run_id, e.arm, e.problem_id, e.success, e.iterations,
  e.input_tokens, e.output_tokens, e.cost_usd, e.wall_seconds, e.final_code, e.verdict, e.category,
  e.importance, e.suite, e.tier, e.score, e.score_criteria, e.measures, (SELECT GROUP_CONCAT(tag, char(31)) FROM experiment_tags WHERE experiment_id = e.experiment_id) AS tags`;

/**
 * The only code that writes run data. One SQLite file in WAL mode: readers (the viewer, a
 * second `koderz results`) never block the benchmark that writes, and every experiment is
 * one transaction, so a run killed at any instant holds only whole experiments.
 */
export class SqliteStore implements Store {
  private constructor(
    private readonly db: Database.Database,
    /** Absolute path of the database file. */
    readonly path: string,
  ) {}

  static open(options: OpenStoreOptions = {}): SqliteStore {
    const file = resolveDbPath(options.path);
    if (!existsSync(file)) {
      if (options.mustExist || options.readOnly) {
        throw new KoderzError(
          "not_found",
          `no koderz store at ${file}`,
          "run `koderz benchmark` first, or point --db / KODERZ_DB at an existing store",
        );
      }
      mkdirSync(path.dirname(file), { recursive: true });
    }
    // Every SQLite failure, here or in any later call, names the file and what to do.
    if (options.readOnly) return withStorageErrors(new SqliteStore(openReadOnlyDatabase(file), file), file);
    checkStoreFile(file);
    let db: Database.Database | undefined;
    try {
      db = new Database(file);
      db.pragma("journal_mode = WAL");
      // FULL syncs the WAL on every commit: an experiment is worth far more than an fsync.
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      // Another process (the viewer, a parallel `results tag`) may hold the write lock briefly.
      db.pragma("busy_timeout = 5000");
      migrate(db, file);
    } catch (error) {
      db?.close();
      throw storageError(error, file);
    }
    return withStorageErrors(new SqliteStore(db, file), file);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ── runs ────────────────────────────────────────────────────────────────────────────────

  /** Inserts a new run with its tags plus the automatic kind:, mode: and model: tags. */
  createRun(run: RunRecord): void {
    checkTags(run.tags);
    const insert = this.db.transaction(() => {
      if (this.findRun(run.runId)) {
        throw new KoderzError("bad_input", `run ${run.runId} already exists`, `continue it with --resume ${run.runId}, or start a new run`);
      }
      this.db
        .prepare(
          `INSERT INTO runs (run_id, kind, mode, stage, label, category, importance, status, start_time, end_time, config_json)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
        );
      this.insertRunTags(run.runId, [...run.tags, ...automaticRunTags(run)]);
    });
    insert.immediate();
  }

  finishRun(runId: string, status: RunStatus, endTime: string = new Date().toISOString()): void {
    const result = this.db.prepare("UPDATE runs SET status = ?, end_time = ? WHERE run_id = ?").run(status, endTime, runId);
    if (result.changes === 0) throw runNotFound(runId);
  }

  /** Marks a stopped run as running again (--resume); its start time and experiments stay. */
  reopenRun(runId: string): void {
    const result = this.db.prepare("UPDATE runs SET status = 'running', end_time = NULL WHERE run_id = ?").run(runId);
    if (result.changes === 0) throw runNotFound(runId);
  }

  /** The run, or a not_found error that names it and says how to find the right one. */
  getRun(runId: string): RunRecord {
    const run = this.findRun(runId);
    if (!run) throw runNotFound(runId);
    return run;
  }

  findRun(runId: string): RunRecord | undefined {
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r WHERE r.run_id = ?`).get(runId);
    return row === undefined ? undefined : runFromRow(row);
  }

  /** Runs matching every given filter, oldest first. */
  listRuns(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const tag of filter.tags ?? []) {
      // A bare tag matches "key:<tag>" too; a tag with a colon must match exactly.
      const matches = `(t.tag = ? OR (instr(?, ':') = 0 AND substr(t.tag, -length(?) - 1) = ':' || ?))`;
      where.push(`(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.run_id AND ${matches})
        OR EXISTS (SELECT 1 FROM experiment_tags t JOIN experiments e ON e.experiment_id = t.experiment_id
                   WHERE e.run_id = r.run_id AND ${matches}))`);
      params.push(tag, tag, tag, tag, tag, tag, tag, tag);
    }
    if (filter.model !== undefined) {
      where.push(`(EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.run_id AND t.tag = 'model:' || ?)
        OR EXISTS (SELECT 1 FROM steps s JOIN experiments e ON e.experiment_id = s.experiment_id
                   WHERE e.run_id = r.run_id AND s.model = ?)
        OR EXISTS (SELECT 1 FROM model_calls c WHERE c.run_id = r.run_id AND c.model = ?))`);
      params.push(filter.model, filter.model, filter.model);
    }
    if (filter.problem !== undefined) {
      where.push("EXISTS (SELECT 1 FROM experiments e WHERE e.run_id = r.run_id AND e.problem_id = ?)");
      params.push(filter.problem);
    }
    if (filter.suite !== undefined) {
      where.push(`(json_extract(r.config_json, '$.suite') = ? OR EXISTS (SELECT 1 FROM experiments e WHERE e.run_id = r.run_id AND e.suite = ?))`);
      params.push(filter.suite, filter.suite);
    }
    for (const column of ["kind", "mode", "stage", "label", "status"] as const) {
      const value = filter[column];
      if (value === undefined) continue;
      where.push(`r.${column} = ?`);
      params.push(value);
    }
    const sql = `SELECT ${RUN_COLUMNS} FROM runs r ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY r.start_time, r.run_id`;
    return this.db
      .prepare(sql)
      .all(...params)
      .map((row) => runFromRow(row));
  }

  /** Sets (or with undefined, clears) the stage label compare orders runs by. */
  setStage(runId: string, stage: string | undefined): void {
    const result = this.db.prepare("UPDATE runs SET stage = ? WHERE run_id = ?").run(nullable(stage), runId);
    if (result.changes === 0) throw runNotFound(runId);
  }

  /** Adds tags to a run; tags it already has are kept once. */
  addTags(runId: string, tags: Tag[]): void {
    checkTags(tags);
    this.db.transaction(() => {
      this.getRun(runId);
      this.insertRunTags(runId, tags);
    })();
  }

  // ── experiments ─────────────────────────────────────────────────────────────────────────

  /**
   * Commits one experiment and its steps in a single transaction: after a crash either all of
   * it is in the store or none of it is.
   *
   * A second write for the same (run, arm, problem) changes nothing and returns false: the
   * first committed verdict stands. That makes the write idempotent, so a resumed run or a
   * retried commit can never count a problem twice or swap a verdict already reported.
   */
  recordExperiment(experiment: ExperimentRecord, steps: readonly StepRecord[]): boolean {
    checkTags(experiment.tags);
    for (const step of steps) {
      if (step.experimentId !== experiment.experimentId) {
        throw new KoderzError(
          "internal",
          `step ${step.index} belongs to experiment ${step.experimentId}, not ${experiment.experimentId}`,
        );
      }
    }
    const write = this.db.transaction((): boolean => {
      this.getRun(experiment.runId);
      const existing = this.db
        .prepare("SELECT 1 FROM experiments WHERE run_id = ? AND arm = ? AND problem_id = ?")
        .get(experiment.runId, experiment.arm, experiment.problemId);
      if (existing) return false;
      this.db
        .prepare(
          `INSERT INTO experiments (experiment_id, run_id, arm, problem_id, success, iterations, input_tokens,
             output_tokens, cost_usd, wall_seconds, final_code, verdict, category, importance, committed_at,
             suite, tier, score, score_criteria, measures)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
        );
      const insertStep = this.db.prepare(
        `INSERT INTO steps (experiment_id, step_index, agent, action, model, prompt, response, code, test_output,
           visible_pass_fraction, input_tokens, output_tokens, cost_usd, latency_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const step of steps) {
        insertStep.run(
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
        );
      }
      this.insertRunTags(experiment.runId, calledModelTags(steps));
      const automatic = [`arm:${experiment.arm}`, `problem:${experiment.problemId}`];
      const insertTag = this.db.prepare("INSERT OR IGNORE INTO experiment_tags (experiment_id, tag) VALUES (?, ?)");
      for (const tag of [...experiment.tags, ...automatic]) insertTag.run(experiment.experimentId, tag);
      return true;
    });
    return write.immediate();
  }

  /** Problems of this arm already committed: what --resume skips. */
  completedProblems(runId: string, arm: string): Set<string> {
    const rows = this.db.prepare("SELECT problem_id FROM experiments WHERE run_id = ? AND arm = ?").all(runId, arm) as {
      problem_id: string;
    }[];
    return new Set(rows.map((row) => row.problem_id));
  }

  /** A run's experiments, by arm and then problem (HumanEval/2 before HumanEval/10). */
  experiments(runId: string, filter: ExperimentFilter = {}): ExperimentRecord[] {
    const rows = this.db
      .prepare(
        `SELECT ${EXPERIMENT_COLUMNS} FROM experiments e
         WHERE e.run_id = @runId AND (@arm IS NULL OR e.arm = @arm) AND (@problem IS NULL OR e.problem_id = @problem)`,
      )
      .all({ runId, arm: filter.arm ?? null, problem: filter.problem ?? null });
    return rows
      .map((row) => experimentFromRow(row))
      .sort((a, b) => (a.arm < b.arm ? -1 : a.arm > b.arm ? 1 : compareProblemIds(a.problemId, b.problemId)));
  }

  setMeasures(experimentId: string, measures: StoredMeasures): void {
    const result = this.db.prepare("UPDATE experiments SET measures = ? WHERE experiment_id = ?").run(JSON.stringify(measures), experimentId);
    if (result.changes === 0) throw experimentNotFound(experimentId);
  }

  getExperiment(experimentId: string): ExperimentRecord | undefined {
    const row = this.db.prepare(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments e WHERE e.experiment_id = ?`).get(experimentId);
    return row === undefined ? undefined : experimentFromRow(row);
  }

  /** An experiment's steps in the order they ran. */
  steps(experimentId: string): StepRecord[] {
    return this.db
      .prepare("SELECT * FROM steps WHERE experiment_id = ? ORDER BY step_index")
      .all(experimentId)
      .map((row) => stepFromRow(row));
  }

  /** Totals per arm, for listings that should not load every experiment. */
  armTotals(runId: string): ArmTotals[] {
    const rows = this.db
      .prepare(
        `SELECT arm, COUNT(*) AS experiments, SUM(success) AS successes, SUM(iterations) AS iterations,
           SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens, SUM(cost_usd) AS costUsd,
           SUM(wall_seconds) AS wallSeconds
         FROM experiments WHERE run_id = ? GROUP BY arm ORDER BY arm`,
      )
      .all(runId) as ArmTotals[];
    return rows;
  }

  // ── model calls ─────────────────────────────────────────────────────────────────────────

  /** The CallLog the model layer records every call through and looks answers up in (--cache, --replay). */
  callLog(options: CallLogOptions): CallLog {
    if (options.scope === "replay" && options.replayRunId) this.getRun(options.replayRunId);
    return withStorageErrors(new StoreCallLog(this.db, options), this.path);
  }

  /** Logged calls of a run or an experiment, oldest first. */
  modelCalls(filter: { runId?: string; experimentId?: string }): ModelCallRecord[] {
    return this.db
      .prepare(
        `SELECT * FROM model_calls
         WHERE (@runId IS NULL OR run_id = @runId) AND (@experimentId IS NULL OR experiment_id = @experimentId)
         ORDER BY call_id`,
      )
      .all({ runId: filter.runId ?? null, experimentId: filter.experimentId ?? null })
      .map((row) => modelCallFromRow(row));
  }

  /** The SQLite engine has no queue, so no job ever failed in it. */
  jobFailures(_runId: string): JobFailure[] {
    return [];
  }

  /** A lock file beside the database (see run-lock.ts). */
  lockRun(runId: string): RunLock {
    return lockRunByFile(this.path, runId);
  }

  private insertRunTags(runId: string, tags: Tag[]): void {
    const insert = this.db.prepare("INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)");
    for (const tag of tags) insert.run(runId, tag);
  }
}
