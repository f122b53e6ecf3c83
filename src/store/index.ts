/** The store's public surface: import from here rather than from the files behind it. */
export { SqliteStore } from "./store.js";
export { openStore } from "./open.js";
export type { OpenStoreOptions } from "./store.js";
export type { Store, RunFilter, ExperimentFilter, ArmTotals, JobFailure } from "./engine.js";
export type { CallLogOptions } from "./call-log.js";
export { newRunId, experimentIdFor, looksLikeRunId } from "./ids.js";
export { resolveDbPath, DEFAULT_DB_PATH } from "./location.js";
export { compareProblemIds } from "./problem-order.js";
export { LATEST_SCHEMA_VERSION } from "./schema.js";
export * from "./records.js";
export * from "./summary.js";
export * from "./group-totals.js";
export * from "./export.js";
export * from "./run-listing.js";
export { lockRun, type RunLock } from "./run-lock.js";
export { CHOSEN_MODE_TAG, escalationsTag, tagValue } from "./experiment-tags.js";
// The PostgreSQL engine itself, for the job queue: its jobs and results commit in one transaction.
export { PgStore, finishRunIfComplete, lockRunOutcomes, pairOutcome, redactedUrl } from "./postgres-engine.js";
export { isPostgresUrl } from "./postgres-url.js";
export { retryWhileUnreachable } from "./postgres-connection-errors.js";
export * from "./code-quality.js";
export { analyseDrafts, findDrafts, heavyModeFigures, HeavyModeSchema, type DraftAnalysis, type DraftStep, type HeavyModeFigures } from "./draft-analysis.js";
export { codeSimilarity } from "./code-similarity.js";
export * from "./run-identity.js";
export * from "./escalations.js";
