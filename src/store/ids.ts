import { createHash, randomBytes } from "node:crypto";

/**
 * Run IDs: `<prefix>_<8 hex>_<YYYYmmdd_HHMMSS>`, e.g. `bench_3fa85f64_20250101_120000`.
 * The timestamp is UTC, so the same run has the same name on every machine and IDs made on
 * one day sort together; the random part keeps two runs started in the same second apart.
 */
export function newRunId(prefix = "bench", now: Date = new Date()): string {
  return `${prefix}_${randomBytes(4).toString("hex")}_${utcStamp(now)}`;
}

/** True for IDs shaped like newRunId's output, with any prefix. */
export function looksLikeRunId(value: string): boolean {
  return /^[a-z][a-z0-9-]*_[0-9a-f]{8}_\d{8}_\d{6}$/.test(value);
}

/**
 * The experiment ID of one problem in one arm of a run. Deterministic on purpose: a run killed
 * and resumed names its experiments exactly as an uninterrupted run would, so both write the
 * same summary JSON.
 */
export function experimentIdFor(runId: string, arm: string, problemId: string): string {
  const digest = createHash("sha256").update(`${runId}\u0000${arm}\u0000${problemId}`).digest("hex");
  return `exp_${digest.slice(0, 16)}`;
}

function utcStamp(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}
