import { writeFileAtomically } from "../output-file.js";
import path from "node:path";
import { z } from "zod";
import type { ExperimentRecord, RunRecord } from "./records.js";
import { compareProblemIds } from "./problem-order.js";
import { groupTotals, GroupTotalsSchema } from "./group-totals.js";
import { codeMeasuresOf, codeQuality, CodeQualitySchema } from "./code-quality.js";
import { heavyModeFigures, HeavyModeSchema, type DraftStep } from "./draft-analysis.js";
import type { Store } from "./store.js";

/**
 * The run summary JSON: written to results/<run_id>.json after every run, and the format of
 * `koderz results export RUN --format json`. The schema is strict (exactly these fields) and
 * exported so tests elsewhere can check a file against it.
 *
 * Units: success_rate in percent (0..100), costs in US dollars, wall time in seconds; token
 * counts and wall_seconds in `summary` are totals over the arm's experiments.
 */

export const SummaryResultSchema = z.strictObject({
  experiment_id: z.string(),
  problem_id: z.string(),
  success: z.boolean(),
  iterations: z.number().int().nonnegative(),
  cost: z.number().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  wall_seconds: z.number().nonnegative(),
  /** Suites beyond HumanEval: the problem's category and tier, and a rubric's 1-5 score. */
  category: z.string().optional(),
  tier: z.string().optional(),
  score: z.number().min(1).max(5).optional(),
  /** The final code's quality, when the sandbox measured it (see code-quality.ts). */
  cyclomatic_complexity: z.number().nonnegative().optional(),
  maintainability_index: z.number().min(0).max(100).optional(),
});

export const SummaryTotalsSchema = z.strictObject({
  total_problems: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  success_rate: z.number().min(0).max(100),
  total_cost: z.number().nonnegative(),
  avg_cost: z.number().nonnegative(),
  avg_iterations: z.number().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  wall_seconds: z.number().nonnegative(),
});

export const SummaryConfigSchema = z.strictObject({
  local_model: z.string().nullable(),
  /** [start, end) as given to `koderz benchmark START END`, or null when the run was not a range. */
  problem_range: z.tuple([z.number().int(), z.number().int()]).nullable(),
  /** The problem ids the run was asked to solve. */
  problems: z.array(z.string()),
  max_iterations: z.number().int().nullable(),
});

const RunHeader = {
  run_id: z.string(),
  mode: z.string(),
  start_time: z.string(),
  end_time: z.string().nullable(),
  /** null while the run has no end time. */
  duration_seconds: z.number().nonnegative().nullable(),
  config: SummaryConfigSchema,
};

/** Per category and per tier; present when the run's problems have them (suite runs). */
const GroupFields = {
  by_category: z.array(GroupTotalsSchema).optional(),
  by_tier: z.array(GroupTotalsSchema).optional(),
  /** Present when the final code was measured. */
  code_quality: CodeQualitySchema.optional(),
  /** Deep runs: what the K drafts bought (see draft-analysis.ts); rates in percent. */
  heavy_mode: HeavyModeSchema.optional(),
};

export const ArmSummarySchema = z.strictObject({
  results: z.array(SummaryResultSchema),
  summary: SummaryTotalsSchema,
  ...GroupFields,
});

export const SingleRunSummarySchema = z.strictObject({
  ...RunHeader,
  results: z.array(SummaryResultSchema),
  summary: SummaryTotalsSchema,
  ...GroupFields,
});

/** Every difference is iterative minus zero-shot; success_rate_improvement in percentage points. */
export const ComparisonSchema = z.strictObject({
  success_rate_improvement: z.number(),
  /** Difference of total_cost. */
  cost_difference: z.number(),
  /** Difference of avg_iterations. */
  iteration_difference: z.number(),
  input_tokens_difference: z.number().int(),
  output_tokens_difference: z.number().int(),
  wall_seconds_difference: z.number(),
});

export const ComparativeRunSummarySchema = z.strictObject({
  ...RunHeader,
  zero_shot: ArmSummarySchema,
  iterative: ArmSummarySchema,
  comparison: ComparisonSchema,
});

export const RunSummarySchema = z.union([SingleRunSummarySchema, ComparativeRunSummarySchema]);

export type SummaryResult = z.infer<typeof SummaryResultSchema>;
export type SummaryTotals = z.infer<typeof SummaryTotalsSchema>;
export type SingleRunSummary = z.infer<typeof SingleRunSummarySchema>;
export type ComparativeRunSummary = z.infer<typeof ComparativeRunSummarySchema>;
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** The arms of a comparative run, as the orchestrator names them. */
export const ZERO_SHOT_ARM = "zero-shot";
export const ITERATIVE_ARM = "iterative";

export function isComparativeSummary(summary: RunSummary): summary is ComparativeRunSummary {
  return "comparison" in summary;
}

/** The summary of a run as it stands in the store (a run still going gets end_time null). */
export function buildRunSummary(store: Store, runId: string): RunSummary {
  const run = store.getRun(runId);
  const experiments = store.experiments(runId);
  const header = {
    run_id: run.runId,
    mode: run.mode,
    start_time: run.startTime,
    end_time: run.endTime ?? null,
    duration_seconds: durationSeconds(run),
    config: summaryConfig(run, experiments),
  };
  // Only modes that sample drafts can have them: other runs never load their steps here.
  const stepsOf = DRAFTING_MODES.has(run.mode) ? (experimentId: string) => store.steps(experimentId) : undefined;
  if (run.mode === "comparative") {
    const zeroShot = armSummary(experiments.filter((e) => e.arm === ZERO_SHOT_ARM));
    const iterative = armSummary(experiments.filter((e) => e.arm === ITERATIVE_ARM));
    return ComparativeRunSummarySchema.parse({
      ...header,
      zero_shot: zeroShot,
      iterative,
      comparison: compareArms(zeroShot.summary, iterative.summary),
    });
  }
  return SingleRunSummarySchema.parse({ ...header, ...armSummary(experiments, stepsOf) });
}

/**
 * Writes <dir>/<run_id>.json and returns its path. Written to a temporary file and renamed,
 * so a reader (or a kill mid-write) never sees half a summary.
 */
export function writeRunSummary(store: Store, runId: string, dir = "results"): string {
  const summary = buildRunSummary(store, runId);
  const file = path.join(dir, `${runId}.json`);
  writeFileAtomically(file, JSON.stringify(summary, null, 2) + "\n");
  return file;
}

/** Modes whose runs can hold K drafts: deep, and auto (its policy may pick deep). */
export const DRAFTING_MODES: ReadonlySet<string> = new Set(["deep", "auto"]);

export function armSummary(experiments: readonly ExperimentRecord[], stepsOf?: (experimentId: string) => readonly DraftStep[]): z.infer<typeof ArmSummarySchema> {
  const ordered = [...experiments].sort((a, b) => compareProblemIds(a.problemId, b.problemId));
  const results = ordered.map(
    (e): SummaryResult => ({
      experiment_id: e.experimentId,
      problem_id: e.problemId,
      success: e.success,
      iterations: e.iterations,
      cost: e.costUsd,
      input_tokens: e.inputTokens,
      output_tokens: e.outputTokens,
      wall_seconds: e.wallSeconds,
      ...(e.category !== undefined ? { category: e.category } : {}),
      ...(e.tier !== undefined ? { tier: e.tier } : {}),
      ...(e.score !== undefined ? { score: e.score } : {}),
      ...measureFields(e),
    }),
  );
  const total = results.length;
  const successes = results.filter((r) => r.success).length;
  const totalCost = sum(results.map((r) => r.cost));
  const summary: SummaryTotals = {
    total_problems: total,
    successes,
    success_rate: total === 0 ? 0 : (successes / total) * 100,
    total_cost: totalCost,
    avg_cost: total === 0 ? 0 : totalCost / total,
    avg_iterations: total === 0 ? 0 : sum(results.map((r) => r.iterations)) / total,
    input_tokens: sum(results.map((r) => r.input_tokens)),
    output_tokens: sum(results.map((r) => r.output_tokens)),
    wall_seconds: sum(results.map((r) => r.wall_seconds)),
  };
  const byCategory = groupTotals(ordered, "category");
  const byTier = groupTotals(ordered, "tier");
  const quality = codeQuality(ordered);
  const heavy = stepsOf ? heavyModeFigures(ordered, stepsOf) : undefined;
  return {
    results,
    summary,
    ...(byCategory.length ? { by_category: byCategory } : {}),
    ...(byTier.length ? { by_tier: byTier } : {}),
    ...(quality ? { code_quality: quality } : {}),
    ...(heavy ? { heavy_mode: heavy } : {}),
  };
}

function measureFields(e: ExperimentRecord): Pick<SummaryResult, "cyclomatic_complexity" | "maintainability_index"> {
  const code = codeMeasuresOf(e);
  return code ? { cyclomatic_complexity: code.cyclomatic, maintainability_index: code.maintainability } : {};
}

function compareArms(zeroShot: SummaryTotals, iterative: SummaryTotals): z.infer<typeof ComparisonSchema> {
  return {
    success_rate_improvement: iterative.success_rate - zeroShot.success_rate,
    cost_difference: iterative.total_cost - zeroShot.total_cost,
    iteration_difference: iterative.avg_iterations - zeroShot.avg_iterations,
    input_tokens_difference: iterative.input_tokens - zeroShot.input_tokens,
    output_tokens_difference: iterative.output_tokens - zeroShot.output_tokens,
    wall_seconds_difference: iterative.wall_seconds - zeroShot.wall_seconds,
  };
}

/**
 * The config fields the summary reports, read from the run's free-form config. Both
 * camelCase (localModel) and snake_case (local_model) keys are accepted; `problems` falls back
 * to the problems that have experiments when the config does not list them.
 */
// Each field falls back on its own, so one malformed key does not hide the others.
const RunConfigFields = z.object({
  localModel: z.string().optional().catch(undefined),
  problemRange: z.tuple([z.number().int(), z.number().int()]).optional().catch(undefined),
  problemIds: z.array(z.string()).optional().catch(undefined),
  maxIterations: z.number().int().optional().catch(undefined),
});

function summaryConfig(run: RunRecord, experiments: readonly ExperimentRecord[]): z.infer<typeof SummaryConfigSchema> {
  const c = run.config;
  const known = RunConfigFields.parse({
    localModel: c.localModel ?? c.local_model,
    problemRange: c.problemRange ?? c.problem_range,
    problemIds: c.problemIds ?? c.problem_ids ?? c.problems,
    maxIterations: c.maxIterations ?? c.max_iterations,
  });
  const attempted = [...new Set(experiments.map((e) => e.problemId))].sort(compareProblemIds);
  return {
    local_model: known.localModel ?? null,
    problem_range: known.problemRange ?? null,
    problems: known.problemIds ?? attempted,
    max_iterations: known.maxIterations ?? null,
  };
}

function durationSeconds(run: RunRecord): number | null {
  if (!run.endTime) return null;
  const seconds = (Date.parse(run.endTime) - Date.parse(run.startTime)) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : null;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
