import type { ErrorCode } from "../errors.js";
import type { PgStore } from "./postgres-engine.js";

/** The PgStore methods the synchronous facade forwards to the store thread. */
export type ForwardedMethod =
  | "createRun" | "finishRun" | "reopenRun" | "getRun" | "findRun" | "listRuns" | "setStage" | "addTags"
  | "recordExperiment" | "completedProblems" | "experiments" | "getExperiment" | "setMeasures" | "steps" | "armTotals"
  | "recordCall" | "lookupCall" | "modelCalls" | "jobFailures" | "lockRun" | "unlockRun";

export type ThreadRequest =
  | { kind: "open"; url: string; mustExist: boolean }
  | { kind: "close"; handle: number }
  | { [M in ForwardedMethod]: { kind: "call"; handle: number; method: M; args: Parameters<PgStore[M]> } }[ForwardedMethod];

export type ThreadReply =
  | { ok: true; value: unknown }
  | { ok: false; message: string; code?: ErrorCode; hint?: string | undefined };
