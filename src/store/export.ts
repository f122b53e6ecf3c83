import type { ExperimentRecord } from "./records.js";
import type { Store } from "./store.js";

/**
 * Flat export of a run: one row per experiment, for `results export --format csv|jsonl`
 * (the json format is the run summary instead, see summary.ts). Final code and traces stay
 * out: they belong to the viewer, and would make every spreadsheet row pages long.
 */
export interface ExperimentExportRow {
  run_id: string;
  experiment_id: string;
  arm: string;
  problem_id: string;
  success: boolean;
  iterations: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  wall_seconds: number;
  verdict: string | null;
  suite: string | null;
  category: string | null;
  tier: string | null;
  importance: number | null;
  /** A graded suite's score (the rubric's 1-5, a match's 0/1); null where only the verdict counts. */
  score: number | null;
  /** The final code's measures (see src/evaluation/code-measures.py); null when not measured. */
  cyclomatic_complexity: number | null;
  maintainability_index: number | null;
  tags: string[];
}

export const EXPORT_COLUMNS: readonly (keyof ExperimentExportRow)[] = [
  "run_id",
  "experiment_id",
  "arm",
  "problem_id",
  "success",
  "iterations",
  "input_tokens",
  "output_tokens",
  "cost",
  "wall_seconds",
  "verdict",
  "suite",
  "category",
  "tier",
  "importance",
  "score",
  "cyclomatic_complexity",
  "maintainability_index",
  "tags",
];

export function exportRow(experiment: ExperimentRecord): ExperimentExportRow {
  const code = experiment.measures?.code;
  const measured = code && !("error" in code) ? code : undefined;
  return {
    run_id: experiment.runId,
    experiment_id: experiment.experimentId,
    arm: experiment.arm,
    problem_id: experiment.problemId,
    success: experiment.success,
    iterations: experiment.iterations,
    input_tokens: experiment.inputTokens,
    output_tokens: experiment.outputTokens,
    cost: experiment.costUsd,
    wall_seconds: experiment.wallSeconds,
    verdict: experiment.verdict ?? null,
    suite: experiment.suite ?? null,
    category: experiment.category ?? null,
    tier: experiment.tier ?? null,
    importance: experiment.importance ?? null,
    score: experiment.score ?? null,
    cyclomatic_complexity: measured?.cyclomatic ?? null,
    maintainability_index: measured?.maintainability ?? null,
    tags: experiment.tags,
  };
}

export function experimentExportRows(store: Store, runId: string): ExperimentExportRow[] {
  store.getRun(runId);
  return store.experiments(runId).map(exportRow);
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
