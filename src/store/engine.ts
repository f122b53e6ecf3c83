import type { CallLog } from "../llm/types.js";
import type { CallLogOptions } from "./call-log.js";
import type { RunLock } from "./run-lock.js";
import type { ExperimentRecord, ModelCallRecord, RunRecord, RunStatus, StepRecord, StoredMeasures, Tag } from "./records.js";

export interface RunFilter {
  /** Every tag must match. A bare tag ("zero-shot") also matches the value of a key:value tag ("mode:zero-shot", "arm:zero-shot"); tags of a run's experiments count too. */
  tags?: Tag[];
  /** Runs tagged model:<model>, or with a step or logged call by that model. */
  model?: string;
  /** Runs with an experiment on this problem. */
  problem?: string;
  kind?: RunRecord["kind"];
  mode?: string;
  stage?: string;
  /** The run's label (exact). */
  label?: string;
  status?: RunRecord["status"];
  /** Runs over this suite or dataset (humaneval, humaneval+, a suite's name): its config's, or its experiments'. */
  suite?: string;
}

export interface ExperimentFilter {
  arm?: string;
  problem?: string;
}

/** Per-arm totals of a run, computed by SQL for listings. */
export interface ArmTotals {
  arm: string;
  experiments: number;
  successes: number;
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
}

/** A queued problem that failed on every attempt (shared store only: see src/queue). */
export interface JobFailure {
  runId: string;
  arm: string;
  problemId: string;
  /** 0 for a job rejected when taken (its data named no problem of the run, or was oversized): it never ran and is no outcome. */
  attempts: number;
  error: string;
  failedAt: string;
}

/**
 * The store every command reads and writes through. Two engines implement it: SQLite (one
 * file, the default) and PostgreSQL (a postgres:// URL, shared by workers on many machines).
 * Both keep the same guarantees: an experiment and its steps commit in one transaction, and a
 * second write for the same (run, arm, problem) changes nothing.
 *
 * The interface is synchronous because the embedded engine is (better-sqlite3); the PostgreSQL
 * engine blocks its caller for one round trip, as an SQLite commit blocks for its fsync.
 */
export interface Store {
  /** Where the data lives, for messages: a file path, or the database URL without its password. */
  readonly path: string;
  close(): void;

  /** Inserts a new run with its tags plus the automatic kind:, mode: and model: tags. */
  createRun(run: RunRecord): void;
  finishRun(runId: string, status: RunStatus, endTime?: string): void;
  /** Marks a stopped run as running again (--resume); its start time and experiments stay. */
  reopenRun(runId: string): void;
  /** The run, or a not_found error that names it and says how to find the right one. */
  getRun(runId: string): RunRecord;
  findRun(runId: string): RunRecord | undefined;
  /** Runs matching every given filter, oldest first. */
  listRuns(filter?: RunFilter): RunRecord[];
  /** Sets (or with undefined, clears) the stage label compare orders runs by. */
  setStage(runId: string, stage: string | undefined): void;
  /** Adds tags to a run; tags it already has are kept once. */
  addTags(runId: string, tags: Tag[]): void;

  /** Commits one experiment and its steps in one transaction; false (and no change) when that (run, arm, problem) already has one. */
  recordExperiment(experiment: ExperimentRecord, steps: readonly StepRecord[]): boolean;
  /** Problems of this arm already committed: what --resume skips. */
  completedProblems(runId: string, arm: string): Set<string>;
  /** A run's experiments, by arm and then problem (HumanEval/2 before HumanEval/10). */
  experiments(runId: string, filter?: ExperimentFilter): ExperimentRecord[];
  getExperiment(experimentId: string): ExperimentRecord | undefined;
  /** Replaces what the sandbox measured of an experiment (`koderz results measure` on runs recorded before it); its verdict stays. */
  setMeasures(experimentId: string, measures: StoredMeasures): void;
  /** An experiment's steps in the order they ran. */
  steps(experimentId: string): StepRecord[];
  /** Totals per arm, for listings that should not load every experiment. */
  armTotals(runId: string): ArmTotals[];

  /** The CallLog the model layer records every call through and looks answers up in (--cache, --replay). */
  callLog(options: CallLogOptions): CallLog;
  /** Logged calls of a run or an experiment, oldest first. */
  modelCalls(filter: { runId?: string; experimentId?: string }): ModelCallRecord[];

  /** Queued problems that failed on every attempt; always empty on the SQLite engine, which has no queue. */
  jobFailures(runId: string): JobFailure[];

  /**
   * Takes a run for this process until release(): one process at a time works on a run (two
   * `benchmark --resume` of one run would each pay the models for the problems still missing).
   * Throws, naming the holder, while another process holds it; a holder that died lets go.
   */
  lockRun(runId: string): RunLock;
}
