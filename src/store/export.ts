import { z } from "zod";
import { knownFigures, type KnownFigures } from "./run-identity.js";
import type { ExperimentRecord } from "./records.js";
import type { Store } from "./store.js";

/**
 * Flat export of a run: one row per experiment, for `results export --format csv|jsonl` and the
 * MCP experiment queries (the json format is the run summary instead, see summary.ts). Final
 * code and traces stay out: they belong to the viewer, and would make every spreadsheet row
 * pages long. camelCase, as every koderz JSON; costs and tokens the run did not log are null.
 */
export const ExperimentExportRowSchema = z.strictObject({
  runId: z.string(),
  experimentId: z.string(),
  arm: z.string(),
  problemId: z.string(),
  success: z.boolean(),
  iterations: z.number().int().nonnegative(),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  costUsd: z.number().nonnegative().nullable(),
  wallSeconds: z.number().nonnegative(),
  verdict: z.string().nullable(),
  suite: z.string().nullable(),
  category: z.string().nullable(),
  tier: z.string().nullable(),
  importance: z.number().nullable(),
  /** A graded suite's score (the rubric's 1-5, a match's 0/1); null where only the verdict counts. */
  score: z.number().nullable(),
  /** The final code's measures (see src/evaluation/code-measures.py); null when not measured. */
  cyclomaticComplexity: z.number().nullable(),
  maintainabilityIndex: z.number().nullable(),
  tags: z.array(z.string()),
});
export type ExperimentExportRow = z.infer<typeof ExperimentExportRowSchema>;

export const EXPORT_COLUMNS: readonly (keyof ExperimentExportRow)[] = [
  "runId",
  "experimentId",
  "arm",
  "problemId",
  "success",
  "iterations",
  "inputTokens",
  "outputTokens",
  "costUsd",
  "wallSeconds",
  "verdict",
  "suite",
  "category",
  "tier",
  "importance",
  "score",
  "cyclomaticComplexity",
  "maintainabilityIndex",
  "tags",
];

export function exportRow(experiment: ExperimentRecord, known: KnownFigures = { cost: true, tokens: true }): ExperimentExportRow {
  const code = experiment.measures?.code;
  const measured = code && !("error" in code) ? code : undefined;
  return {
    runId: experiment.runId,
    experimentId: experiment.experimentId,
    arm: experiment.arm,
    problemId: experiment.problemId,
    success: experiment.success,
    iterations: experiment.iterations,
    inputTokens: known.tokens ? experiment.inputTokens : null,
    outputTokens: known.tokens ? experiment.outputTokens : null,
    costUsd: known.cost ? experiment.costUsd : null,
    wallSeconds: experiment.wallSeconds,
    verdict: experiment.verdict ?? null,
    suite: experiment.suite ?? null,
    category: experiment.category ?? null,
    tier: experiment.tier ?? null,
    importance: experiment.importance ?? null,
    score: experiment.score ?? null,
    cyclomaticComplexity: measured?.cyclomatic ?? null,
    maintainabilityIndex: measured?.maintainability ?? null,
    tags: experiment.tags,
  };
}

export function experimentExportRows(store: Store, runId: string): ExperimentExportRow[] {
  const run = store.getRun(runId);
  const known = knownFigures(run);
  return store.experiments(run.runId).map((experiment) => exportRow(experiment, known));
}

export function toJsonl(rows: readonly ExperimentExportRow[]): string {
  return rows.map((row) => JSON.stringify(row) + "\n").join("");
}

/** RFC 4180 CSV with a header row; tags are joined with ";", which no tag contains. */
export function toCsv(rows: readonly ExperimentExportRow[]): string {
  const lines = [EXPORT_COLUMNS.join(",")];
  for (const row of rows) {
    lines.push(EXPORT_COLUMNS.map((column) => csvField(row[column])).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function csvField(value: ExperimentExportRow[keyof ExperimentExportRow]): string {
  if (value === null) return "";
  const text = Array.isArray(value) ? value.join(";") : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
