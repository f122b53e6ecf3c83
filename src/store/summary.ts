import { EscalationFiguresSchema, escalationFigures } from "./escalations.js";
import { writeFileOrFallback } from "../output-file.js";
import { SCHEMA_VERSION } from "../json-contract.js";
import path from "node:path";
import { z } from "zod";
import type { ExperimentRecord, RunRecord } from "./records.js";
import { compareProblemIds } from "./problem-order.js";
import { groupTotals, GroupTotalsSchema } from "./group-totals.js";
import { codeMeasuresOf, codeQuality, CodeQualitySchema } from "./code-quality.js";
import { heavyModeFigures, HeavyModeSchema, type DraftStep } from "./draft-analysis.js";
import type { Store } from "./store.js";
import { calledModels, knownFigures, runName, type KnownFigures } from "./run-identity.js";

/**
 * The run summary JSON: written to results/<runId>.json after every run, and the format of
 * `koderz results export RUN --format json`. The schema is strict (exactly these fields) and
 * exported so tests elsewhere can check a file against it; docs/schemas/run-summary.schema.json
 * is generated from it.
 *
 * The JSON contract every koderz document follows: camelCase keys, shares as fractions in
 * [0, 1], `schemaVersion`, and null for what is not known (costs and tokens an imported run did
 * not log are null, never 0). Costs in US dollars, wall time in seconds; token counts and
 * wallSeconds in `summary` are totals over the arm's experiments.
 */

export { SCHEMA_VERSION };
export const SchemaVersionField = z.literal(SCHEMA_VERSION);

export const SummaryResultSchema = z.strictObject({
  experimentId: z.string(),
  problemId: z.string(),
  success: z.boolean(),
  iterations: z.number().int().nonnegative(),
  /** null when the run's costs or tokens were not logged (an import without those fields). */
  costUsd: z.number().nonnegative().nullable(),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  wallSeconds: z.number().nonnegative(),
  /** Suites beyond HumanEval: the problem's category and tier, and a rubric's 1-5 score; null when it has none. */
  category: z.string().nullable(),
  tier: z.string().nullable(),
  score: z.number().nullable(),
  /** The final code's quality, when the sandbox measured it (see code-quality.ts); else null. */
  cyclomaticComplexity: z.number().nonnegative().nullable(),
  maintainabilityIndex: z.number().min(0).max(100).nullable(),
});

export const SummaryTotalsSchema = z.strictObject({
  totalProblems: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  /** A fraction, 0..1; null when the arm has no problems yet. */
  successRate: z.number().min(0).max(1).nullable(),
  totalCostUsd: z.number().nonnegative().nullable(),
  avgCostUsd: z.number().nonnegative().nullable(),
  avgIterations: z.number().nonnegative().nullable(),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  wallSeconds: z.number().nonnegative(),
});

/** Everything the run was started with that decides its figures: models, mode settings, dataset, sandbox. */
export const SummaryConfigSchema = z.strictObject({
  models: z.strictObject({
    /** The model under test (Coder, Tester, Debugger), as configured. */
    local: z.string().nullable(),
    /** The stronger model (Planner, Reviewer, checkpoints), as configured. */
    frontier: z.string().nullable(),
    /** --model-for: a model per agent. */
    byAgent: z.record(z.string(), z.string()),
    /** The models the run actually called (its steps and logged calls); a zero-shot run never calls the frontier model. */
    called: z.array(z.string()),
  }),
  settings: z.strictObject({
    maxIterations: z.number().int().nullable(),
    checkpointEvery: z.number().int().nullable(),
    trajectories: z.number().int().nullable(),
    debugRounds: z.number().int().nullable(),
    concurrency: z.number().int().nullable(),
    budget: z.record(z.string(), z.number()).nullable(),
    /** auto mode: the policy file and its rungs. */
    policyPath: z.string().nullable(),
    ladder: z.unknown().nullable(),
    cache: z.boolean().nullable(),
  }),
  dataset: z.strictObject({
    /** humaneval, humaneval+ or a suite's name. */
    suite: z.string().nullable(),
    /** A dataset or suite file given by path. */
    path: z.string().nullable(),
  }),
  /** docker or process; null when the run chose the default (docker when an engine answered). */
  sandbox: z.string().nullable(),
  /** --config: the model config file the run was started with, and its SHA-256 then. */
  modelConfigFile: z.strictObject({ path: z.string(), sha256: z.string() }).nullable(),
  /** [start, end) as given to `koderz benchmark START END`, or null when the run was not a range. */
  problemRange: z.tuple([z.number().int(), z.number().int()]).nullable(),
  /** The problem ids the run was asked to solve. */
  problems: z.array(z.string()),
});

/** Who a run is, alike in the summary and in listings. */
export const RunIdentityFields = {
  runId: z.string(),
  /** The run's label, or null. */
  label: z.string().nullable(),
  /** How listings name the run: its label, else "model · mode · suite". */
  name: z.string(),
  kind: z.string(),
  mode: z.string(),
  /** running, finished, interrupted or failed. */
  status: z.string(),
};

const RunHeader = {
  schemaVersion: SchemaVersionField,
  ...RunIdentityFields,
  startTime: z.string(),
  endTime: z.string().nullable(),
  /** null while the run has no end time. */
  durationSeconds: z.number().nonnegative().nullable(),
  config: SummaryConfigSchema,
};

/** Per category and per tier, and the measures: null when the run's problems have none. */
const GroupFields = {
  byCategory: z.array(GroupTotalsSchema).nullable(),
  byTier: z.array(GroupTotalsSchema).nullable(),
  /** null when the final code was not measured. */
  codeQuality: CodeQualitySchema.nullable(),
  /** Deep runs: what the K drafts bought (see draft-analysis.ts); null for other runs. */
  heavyMode: HeavyModeSchema.nullable(),
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
  /** An auto run with --ladder (or a solve's): per rung, problems started, reached, escalated from and solved on; null without a ladder. */
  escalations: EscalationFiguresSchema.nullable(),
});

/** Every difference is iterative minus zero-shot; successRateDifference a fraction; null where either side is unknown. */
export const ComparisonSchema = z.strictObject({
  successRateDifference: z.number().nullable(),
  costDifferenceUsd: z.number().nullable(),
  iterationDifference: z.number().nullable(),
  inputTokensDifference: z.number().int().nullable(),
  outputTokensDifference: z.number().int().nullable(),
  wallSecondsDifference: z.number(),
});

export const ComparativeRunSummarySchema = z.strictObject({
  ...RunHeader,
  zeroShot: ArmSummarySchema,
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

/** The summary of a run as it stands in the store (a run still going gets endTime null). */
export function buildRunSummary(store: Store, runId: string): RunSummary {
  const run = store.getRun(runId);
  const experiments = store.experiments(run.runId);
  const known = knownFigures(run);
  const header = {
    schemaVersion: SCHEMA_VERSION,
    runId: run.runId,
    label: run.label ?? null,
    name: runName(run),
    kind: run.kind,
    mode: run.mode,
    status: run.status,
    startTime: run.startTime,
    endTime: run.endTime ?? null,
    durationSeconds: durationSeconds(run),
    config: summaryConfig(run, experiments),
  };
  // Only modes that sample drafts can have them: other runs never load their steps here.
  const stepsOf = DRAFTING_MODES.has(run.mode) ? (experimentId: string) => store.steps(experimentId) : undefined;
  if (run.mode === "comparative") {
    const zeroShot = armSummary(experiments.filter((e) => e.arm === ZERO_SHOT_ARM), undefined, known);
    const iterative = armSummary(experiments.filter((e) => e.arm === ITERATIVE_ARM), undefined, known);
    return ComparativeRunSummarySchema.parse({
      ...header,
      zeroShot,
      iterative,
      comparison: compareArms(zeroShot.summary, iterative.summary),
    });
  }
  return SingleRunSummarySchema.parse({ ...header, ...armSummary(experiments, stepsOf, known), escalations: escalationFigures(run, experiments) });
}

/**
 * Writes <dir>/<runId>.json and returns its path. Written to a temporary file and renamed,
 * so a reader (or a kill mid-write) never sees half a summary. When <dir> cannot be written
 * (it was checked before the run; a disk can still fill up), the summary goes to the system's
 * temporary folder instead and the returned path says where: the run's work is never lost.
 */
export function writeRunSummary(store: Store, runId: string, dir = "results"): string {
  const summary = buildRunSummary(store, runId);
  const file = path.join(dir, `${runId}.json`);
  return writeFileOrFallback(file, JSON.stringify(summary, null, 2) + "\n");
}

/** Modes whose runs can hold K drafts: deep, and auto (its policy may pick deep). */
export const DRAFTING_MODES: ReadonlySet<string> = new Set(["deep", "auto"]);

export function armSummary(
  experiments: readonly ExperimentRecord[],
  stepsOf?: (experimentId: string) => readonly DraftStep[],
  known: KnownFigures = { cost: true, tokens: true },
): z.infer<typeof ArmSummarySchema> {
  const ordered = [...experiments].sort((a, b) => compareProblemIds(a.problemId, b.problemId));
  const results = ordered.map(
    (e): SummaryResult => ({
      experimentId: e.experimentId,
      problemId: e.problemId,
      success: e.success,
      iterations: e.iterations,
      costUsd: known.cost ? e.costUsd : null,
      inputTokens: known.tokens ? e.inputTokens : null,
      outputTokens: known.tokens ? e.outputTokens : null,
      wallSeconds: e.wallSeconds,
      category: e.category ?? null,
      tier: e.tier ?? null,
      score: e.score ?? null,
      ...measureFields(e),
    }),
  );
  const total = results.length;
  const successes = results.filter((r) => r.success).length;
  const totalCost = known.cost ? sum(ordered.map((e) => e.costUsd)) : null;
  const summary: SummaryTotals = {
    totalProblems: total,
    successes,
    successRate: total === 0 ? null : successes / total,
    totalCostUsd: totalCost,
    avgCostUsd: total === 0 || totalCost === null ? null : totalCost / total,
    avgIterations: total === 0 ? null : sum(results.map((r) => r.iterations)) / total,
    inputTokens: known.tokens ? sum(ordered.map((e) => e.inputTokens)) : null,
    outputTokens: known.tokens ? sum(ordered.map((e) => e.outputTokens)) : null,
    wallSeconds: sum(results.map((r) => r.wallSeconds)),
  };
  const byCategory = groupTotals(ordered, "category", known.cost);
  const byTier = groupTotals(ordered, "tier", known.cost);
  return {
    results,
    summary,
    byCategory: byCategory.length ? byCategory : null,
    byTier: byTier.length ? byTier : null,
    codeQuality: codeQuality(ordered) ?? null,
    heavyMode: (stepsOf && heavyModeFigures(ordered, stepsOf)) ?? null,
  };
}

function measureFields(e: ExperimentRecord): Pick<SummaryResult, "cyclomaticComplexity" | "maintainabilityIndex"> {
  const code = codeMeasuresOf(e);
  return { cyclomaticComplexity: code?.cyclomatic ?? null, maintainabilityIndex: code?.maintainability ?? null };
}

function compareArms(zeroShot: SummaryTotals, iterative: SummaryTotals): z.infer<typeof ComparisonSchema> {
  const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  return {
    successRateDifference: difference(zeroShot.successRate, iterative.successRate),
    costDifferenceUsd: difference(zeroShot.totalCostUsd, iterative.totalCostUsd),
    iterationDifference: difference(zeroShot.avgIterations, iterative.avgIterations),
    inputTokensDifference: difference(zeroShot.inputTokens, iterative.inputTokens),
    outputTokensDifference: difference(zeroShot.outputTokens, iterative.outputTokens),
    wallSecondsDifference: iterative.wallSeconds - zeroShot.wallSeconds,
  };
}

/**
 * The config fields the summary reports, read from the run's free-form config. Both
 * camelCase (localModel) and snake_case (local_model) keys are accepted; `problems` falls back
 * to the problems that have experiments when the config does not list them.
 */
// Each field falls back on its own, so one malformed key does not hide the others.
const text = z.string().optional().catch(undefined);
const whole = z.number().int().optional().catch(undefined);
const RunConfigFields = z.object({
  localModel: text,
  frontierModel: text,
  modelFor: z.record(z.string(), z.string()).optional().catch(undefined),
  problemRange: z.tuple([z.number().int(), z.number().int()]).optional().catch(undefined),
  problemIds: z.array(z.string()).optional().catch(undefined),
  maxIterations: whole,
  checkpointEvery: whole,
  trajectories: whole,
  debugRounds: whole,
  concurrency: whole,
  budget: z.record(z.string(), z.number()).optional().catch(undefined),
  policyPath: text,
  ladder: z.unknown().optional(),
  cache: z.boolean().optional().catch(undefined),
  suite: text,
  datasetPath: text,
  suiteSource: text,
  sandbox: text,
  modelConfigFile: z.object({ path: z.string(), sha256: z.string() }).optional().catch(undefined),
});

function summaryConfig(run: RunRecord, experiments: readonly ExperimentRecord[]): z.infer<typeof SummaryConfigSchema> {
  const c = run.config;
  const known = RunConfigFields.parse({
    ...c,
    localModel: c.localModel ?? c.local_model,
    frontierModel: c.frontierModel ?? c.frontier_model,
    modelFor: c.modelFor ?? c.roleOverrides,
    problemRange: c.problemRange ?? c.problem_range,
    problemIds: c.problemIds ?? c.problem_ids ?? c.problems,
    maxIterations: c.maxIterations ?? c.max_iterations,
  });
  const attempted = [...new Set(experiments.map((e) => e.problemId))].sort(compareProblemIds);
  const suiteFile = known.suiteSource && /[\\/]/.test(known.suiteSource) ? known.suiteSource : undefined;
  return {
    models: { local: known.localModel ?? null, frontier: known.frontierModel ?? null, byAgent: known.modelFor ?? {}, called: calledModels(run) },
    settings: {
      maxIterations: known.maxIterations ?? null,
      checkpointEvery: known.checkpointEvery ?? null,
      trajectories: known.trajectories ?? null,
      debugRounds: known.debugRounds ?? null,
      concurrency: known.concurrency ?? null,
      budget: known.budget && Object.keys(known.budget).length ? known.budget : null,
      policyPath: known.policyPath ?? null,
      ladder: known.ladder ?? null,
      cache: known.cache ?? null,
    },
    dataset: { suite: known.suite ?? experiments.find((e) => e.suite)?.suite ?? null, path: known.datasetPath ?? suiteFile ?? null },
    sandbox: known.sandbox ?? null,
    modelConfigFile: known.modelConfigFile ?? null,
    problemRange: known.problemRange ?? null,
    problems: known.problemIds ?? attempted,
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
