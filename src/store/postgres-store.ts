import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { KoderzError } from "../errors.js";
import type { CallLog, ChatResponse, LoggedCall } from "../llm/types.js";
import { loggedResponse, type CallLogOptions } from "./call-log.js";
import type { ArmTotals, ExperimentFilter, JobFailure, RunFilter, Store } from "./engine.js";
import type { ExperimentRecord, ModelCallRecord, RunRecord, RunStatus, StepRecord, StoredMeasures, Tag } from "./records.js";
import type { PgStore } from "./postgres-engine.js";
import { runIsBusy, type RunLock } from "./run-lock.js";
import type { ForwardedMethod, ThreadReply, ThreadRequest } from "./postgres-thread-protocol.js";

/**
 * The worker thread's module. Compiled, it sits beside this file; when the TypeScript sources
 * run in place (vitest), the thread, which is plain Node, loads the build under dist/ instead.
 */
function threadModule(): string {
  const beside = fileURLToPath(new URL("./postgres-thread.js", import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL("../../dist/src/store/postgres-thread.js", import.meta.url));
}

let sendToThread: ((request: ThreadRequest) => ThreadReply) | undefined;

function ask(request: ThreadRequest): unknown {
  // Required here, not imported at the top: a run on SQLite never loads it.
  const { createSyncFn } = createRequire(import.meta.url)("synckit") as typeof import("synckit");
  sendToThread ??= createSyncFn<(request: ThreadRequest) => Promise<ThreadReply>>(threadModule());
  const reply = sendToThread(request);
  if (reply.ok) return reply.value;
  if (reply.code) throw new KoderzError(reply.code, reply.message, reply.hint);
  throw new KoderzError("internal", `PostgreSQL store: ${reply.message}`, "check that PostgreSQL runs and koderz on every machine is the same version");
}

/**
 * The PostgreSQL engine behind the synchronous Store interface: each call runs on PgStore in a
 * worker thread and blocks the caller for that one round trip.
 */
export class PostgresStore implements Store {
  private closed = false;

  private constructor(
    private readonly handle: number,
    readonly path: string,
  ) {}

  static open(url: string, options: { mustExist?: boolean } = {}): PostgresStore {
    const opened = ask({ kind: "open", url, mustExist: options.mustExist ?? false }) as { handle: number; path: string };
    return new PostgresStore(opened.handle, opened.path);
  }

  private call<M extends ForwardedMethod>(method: M, ...args: Parameters<PgStore[M]>): Awaited<ReturnType<PgStore[M]>> {
    if (this.closed) throw new KoderzError("internal", "the store was used after it was closed");
    return ask({ kind: "call", handle: this.handle, method, args } as ThreadRequest) as Awaited<ReturnType<PgStore[M]>>;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    ask({ kind: "close", handle: this.handle });
  }

  createRun(run: RunRecord): void {
    this.call("createRun", run);
  }
  finishRun(runId: string, status: RunStatus, endTime?: string): void {
    this.call("finishRun", runId, status, endTime);
  }
  reopenRun(runId: string): void {
    this.call("reopenRun", runId);
  }
  getRun(runId: string): RunRecord {
    return this.call("getRun", runId);
  }
  findRun(runId: string): RunRecord | undefined {
    return this.call("findRun", runId);
  }
  listRuns(filter: RunFilter = {}): RunRecord[] {
    return this.call("listRuns", filter);
  }
  setStage(runId: string, stage: string | undefined): void {
    this.call("setStage", runId, stage);
  }
  addTags(runId: string, tags: Tag[]): void {
    this.call("addTags", runId, tags);
  }
  recordExperiment(experiment: ExperimentRecord, steps: readonly StepRecord[]): boolean {
    return this.call("recordExperiment", experiment, steps);
  }
  completedProblems(runId: string, arm: string): Set<string> {
    return this.call("completedProblems", runId, arm);
  }
  experiments(runId: string, filter: ExperimentFilter = {}): ExperimentRecord[] {
    return this.call("experiments", runId, filter);
  }
  setMeasures(experimentId: string, measures: StoredMeasures): void {
    this.call("setMeasures", experimentId, measures);
  }
  getExperiment(experimentId: string): ExperimentRecord | undefined {
    return this.call("getExperiment", experimentId);
  }
  steps(experimentId: string): StepRecord[] {
    return this.call("steps", experimentId);
  }
  armTotals(runId: string): ArmTotals[] {
    return this.call("armTotals", runId);
  }
  callLog(options: CallLogOptions): CallLog {
    if (options.scope === "replay") {
      if (!options.replayRunId) throw new KoderzError("usage", "a replay call log needs the run to replay", "pass --replay RUN_ID");
      this.getRun(options.replayRunId);
    }
    return {
      record: (call: LoggedCall): void => this.call("recordCall", options, call),
      lookup: (requestHash: string): ChatResponse | undefined => {
        const logged = this.call("lookupCall", options, requestHash);
        return logged === undefined ? undefined : loggedResponse(logged);
      },
    };
  }
  modelCalls(filter: { runId?: string; experimentId?: string }): ModelCallRecord[] {
    return this.call("modelCalls", filter);
  }
  jobFailures(runId: string): JobFailure[] {
    return this.call("jobFailures", runId);
  }

  /** A PostgreSQL advisory lock held by a connection of this process, so it works across machines. */
  lockRun(runId: string): RunLock {
    const taken = this.call("lockRun", runId, { pid: process.pid, host: hostname() });
    if (!taken.locked) {
      throw runIsBusy(runId, taken.holder, "wait for it to finish (or stop it), then resume; PostgreSQL lets go of the run by itself when that process ends");
    }
    let held = true;
    return {
      path: this.path,
      release: () => {
        if (!held || this.closed) return; // closing the store ends the lock's connection too
        held = false;
        this.call("unlockRun", runId);
      },
    };
  }
}
