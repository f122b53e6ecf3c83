import {
  knownFigures,
  resolveRun,
  runName,
  codeQuality,
  compareProblemIds,
  DRAFTING_MODES,
  heavyModeFigures,
  type CodeQuality,
  type ExperimentRecord,
  type HeavyModeFigures,
  type RunRecord,
  type Store,
} from "../store/index.js";
import { integerHistogram, type Histogram } from "./histogram.js";
import type { TrainingCurves } from "./train-metrics.js";

/**
 * Everything the HTML report shows, computed from the store in one place: the page only lays
 * it out and hands the chart series to chart.js, so every number on it can be tested here.
 *
 * Units: success rates in percent (0..100) as in the run summary; costs in US dollars.
 */

/** One arm of one run: a row of the runs table, a column of the problem matrix, a series in the charts. */
export interface ReportColumn {
  /** Unique in the report: `${runId}:${arm}`. */
  key: string;
  /** For legends and matrix headings: the run id without its timestamp when that stays unique, plus " · arm" for runs with several arms. */
  label: string;
  runId: string;
  arm: string;
  kind: string;
  mode: string;
  stage: string | null;
  status: string;
  startTime: string;
  /** Models the arm's steps used; the run's model: tags when no step names one. */
  models: string[];
  problems: number;
  successes: number;
  /** Percent; null when the arm has no experiments. */
  successRate: number | null;
  /** null when the run did not log them (an import without those fields): unknown, never 0. */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  /** Mean cost of one problem, the x of the cost-against-success chart. */
  meanCostUsd: number | null;
  totalIterations: number;
  /** The final code's complexity and maintainability, when the sandbox measured it. */
  codeQuality: CodeQuality | null;
  /** Runs that sample drafts (deep): what the K drafts bought. */
  heavyMode: HeavyModeFigures | null;
}

/** A run with nothing recorded yet still gets a line in the runs table. */
export interface EmptyRun {
  runId: string;
  mode: string;
  stage: string | null;
  status: string;
}

export type MatrixOutcome = "pass" | "fail" | "none";

export interface MatrixCell {
  outcome: MatrixOutcome;
  iterations?: number;
  costUsd?: number;
  verdict?: string;
}

export interface ProblemMatrix {
  problems: string[];
  /** cells[problem][column], in the order of `columns`. */
  cells: MatrixCell[][];
}

/** Success pooled over every selected run, per mode (arm) and model. */
export interface SuccessByModeAndModel {
  modes: string[];
  models: string[];
  /** rates[model][mode] in percent; null where no run used that model in that mode. */
  rates: (number | null)[][];
  successes: number[][];
  experiments: number[][];
}

export interface ReportData {
  generatedAt: string;
  columns: ReportColumn[];
  emptyRuns: EmptyRun[];
  successByModeAndModel: SuccessByModeAndModel;
  /** Tokens (input + output) per experiment; one series per column. */
  tokens: Histogram;
  /** Iterations per experiment; one series per column. */
  iterations: Histogram;
  matrix: ProblemMatrix;
  training: TrainingCurves[];
}

export const UNKNOWN_MODEL = "unknown model";

/** The report over these runs (in the order given, each once); an unknown run id is a not_found error. */
export function buildReportData(store: Store, runIds: readonly string[], training: TrainingCurves[] = [], now = new Date()): ReportData {
  // Runs are named by id or label; each once.
  const runs = [...new Map(runIds.map((reference) => resolveRun(store, reference)).map((run) => [run.runId, run])).values()];
  const columns: ReportColumn[] = [];
  const emptyRuns: EmptyRun[] = [];
  const experimentsByColumn = new Map<string, ExperimentRecord[]>();
  const shortIds = shortRunIds(runs.map((r) => r.runId));
  for (const run of runs) {
    const byArm = groupBy(store.experiments(run.runId), (e) => e.arm);
    if (byArm.size === 0) emptyRuns.push({ runId: run.runId, mode: run.mode, stage: run.stage ?? null, status: run.status });
    for (const [arm, experiments] of byArm) {
      // A legend names the run (its label, else model · mode · suite) with its id beside it.
      const title = `${runName(run)} (${shortIds.get(run.runId)!})`;
      const label = byArm.size > 1 ? `${title} · ${arm}` : title;
      const heavy = DRAFTING_MODES.has(run.mode) ? (heavyModeFigures(experiments, (id) => store.steps(id)) ?? null) : null;
      const column = reportColumn(run, arm, label, experiments, armModels(store, run, experiments), heavy);
      columns.push(column);
      experimentsByColumn.set(column.key, experiments);
    }
  }
  const seriesOf = (value: (e: ExperimentRecord) => number) => columns.map((c) => experimentsByColumn.get(c.key)!.map(value));
  return {
    generatedAt: now.toISOString(),
    columns,
    emptyRuns,
    successByModeAndModel: successByModeAndModel(columns),
    tokens: integerHistogram(seriesOf((e) => e.inputTokens + e.outputTokens)),
    iterations: integerHistogram(seriesOf((e) => e.iterations)),
    matrix: problemMatrix(columns, experimentsByColumn),
    training,
  };
}

/** "a + b" for an arm that used two models; what the success chart groups by. */
export function modelLabel(column: ReportColumn): string {
  return column.models.length ? column.models.join(" + ") : UNKNOWN_MODEL;
}

function reportColumn(
  run: RunRecord,
  arm: string,
  label: string,
  experiments: readonly ExperimentRecord[],
  models: string[],
  heavyMode: HeavyModeFigures | null,
): ReportColumn {
  const problems = experiments.length;
  const successes = experiments.filter((e) => e.success).length;
  const known = knownFigures(run);
  const costUsd = known.cost ? sum(experiments.map((e) => e.costUsd)) : null;
  return {
    key: `${run.runId}:${arm}`,
    label,
    runId: run.runId,
    arm,
    kind: run.kind,
    mode: run.mode,
    stage: run.stage ?? null,
    status: run.status,
    startTime: run.startTime,
    models,
    problems,
    successes,
    successRate: problems === 0 ? null : (successes / problems) * 100,
    inputTokens: known.tokens ? sum(experiments.map((e) => e.inputTokens)) : null,
    outputTokens: known.tokens ? sum(experiments.map((e) => e.outputTokens)) : null,
    costUsd,
    meanCostUsd: problems === 0 || costUsd === null ? null : costUsd / problems,
    totalIterations: sum(experiments.map((e) => e.iterations)),
    codeQuality: codeQuality(experiments) ?? null,
    heavyMode,
  };
}

/**
 * bench_1a2b3c4d for bench_1a2b3c4d_20250101_100000: legends fit on one line. The full id stays
 * wherever two runs would otherwise share a name.
 */
function shortRunIds(runIds: readonly string[]): Map<string, string> {
  const short = (runId: string) => runId.replace(/_\d{8}_\d{6}$/, "");
  const counts = new Map<string, number>();
  for (const runId of runIds) counts.set(short(runId), (counts.get(short(runId)) ?? 0) + 1);
  return new Map(runIds.map((runId) => [runId, counts.get(short(runId)) === 1 && short(runId) !== "" ? short(runId) : runId]));
}

/**
 * The models an arm actually called, from its steps: in a comparative run the zero-shot arm
 * used only the local model while the iterative arm also called the frontier one, which the
 * run's tags cannot tell apart.
 */
function armModels(store: Store, run: RunRecord, experiments: readonly ExperimentRecord[]): string[] {
  const models = new Set<string>();
  for (const experiment of experiments) {
    for (const step of store.steps(experiment.experimentId)) if (step.model) models.add(step.model);
  }
  if (models.size === 0) {
    for (const tag of run.tags) if (tag.startsWith("model:")) models.add(tag.slice("model:".length));
  }
  return [...models].sort();
}

function successByModeAndModel(columns: readonly ReportColumn[]): SuccessByModeAndModel {
  const modes = [...new Set(columns.map((c) => c.arm))].sort();
  const models = [...new Set(columns.map(modelLabel))].sort();
  const successes = models.map(() => modes.map(() => 0));
  const experiments = models.map(() => modes.map(() => 0));
  for (const column of columns) {
    const m = models.indexOf(modelLabel(column));
    const a = modes.indexOf(column.arm);
    successes[m]![a]! += column.successes;
    experiments[m]![a]! += column.problems;
  }
  const rates = successes.map((row, m) => row.map((solved, a) => (experiments[m]![a]! === 0 ? null : (solved / experiments[m]![a]!) * 100)));
  return { modes, models, rates, successes, experiments };
}

function problemMatrix(columns: readonly ReportColumn[], experimentsByColumn: ReadonlyMap<string, ExperimentRecord[]>): ProblemMatrix {
  const lookup = columns.map((c) => new Map(experimentsByColumn.get(c.key)!.map((e) => [e.problemId, e])));
  const problems = [...new Set(lookup.flatMap((byProblem) => [...byProblem.keys()]))].sort(compareProblemIds);
  const cells = problems.map((problemId) =>
    lookup.map((byProblem): MatrixCell => {
      const e = byProblem.get(problemId);
      if (!e) return { outcome: "none" };
      return { outcome: e.success ? "pass" : "fail", iterations: e.iterations, costUsd: e.costUsd, ...(e.verdict ? { verdict: e.verdict } : {}) };
    }),
  );
  return { problems, cells };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
