import { z } from "zod";
import { KoderzError } from "../../errors.js";
import { calledModels, groupTotals, resolveRun, runName, runSuite, type ArmTotals, type ExperimentRecord, type RunRecord, type StepRecord, type Store, type StoredCriterion } from "../../store/index.js";

/**
 * The viewer's JSON API over the store. Every request queries the store afresh, so runs that a
 * benchmark commits while the viewer is open show up on the next page load. Nothing here writes.
 *
 *   GET /api/runs                      every run, oldest first, with per-arm totals
 *   GET /api/runs/:runId[?arm=ARM][&category=CATEGORY]
 *                                      a run, its totals per category, and its experiments (one per problem and arm)
 *   GET /api/experiments/:experimentId an experiment and its steps, in order
 */

export interface ArmView {
  arm: string;
  experiments: number;
  successes: number;
  /** Percent, 0..100. */
  successRate: number;
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
}

export interface RunView {
  runId: string;
  kind: string;
  mode: string;
  stage: string | null;
  label: string | null;
  status: string;
  startTime: string;
  endTime: string | null;
  tags: string[];
  /** The models the run called (its model: tags). */
  models: string[];
  /** The label, else "model · mode · suite": how the page names the run, with its id beside it. */
  name: string;
  suite: string | null;
  /** The largest arm's problem count: the arms of a run cover the same problems. */
  problems: number;
  arms: ArmView[];
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface ExperimentView {
  experimentId: string;
  runId: string;
  arm: string;
  problemId: string;
  success: boolean;
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
  verdict: string | null;
  /** A suite case's kind of work (agentic, coding, ...) and tier; HumanEval's problems have their suite's name as category. */
  category: string | null;
  tier: string | null;
  /** rubric and tool-trace: the 1-5 score. */
  score: number | null;
}

/** One category's experiments in a run, every arm together. */
export interface CategoryView {
  category: string;
  experiments: number;
  successes: number;
  /** Percent, 0..100. */
  successRate: number;
  /** The mean 1-5 score of the experiments that have one, or null. */
  meanScore: number | null;
  costUsd: number | null;
}

export interface RunsResponse {
  runs: RunView[];
}

export interface RunResponse {
  run: RunView & { config: Record<string, unknown> };
  /** Every category of the run (whatever the filter), by name. */
  categories: CategoryView[];
  experiments: ExperimentView[];
}

export interface ExperimentResponse {
  run: RunView;
  /** criteria: how each rubric criterion or tool-trace check fared. */
  experiment: ExperimentView & { finalCode: string | null; tags: string[]; criteria: StoredCriterion[] };
  steps: StepRecord[];
}

export interface ApiError {
  error: { code: string; message: string; hint: string | null };
}

export interface ApiResult {
  status: number;
  body: RunsResponse | RunResponse | ExperimentResponse | ApiError;
}

const ROUTES_HINT = "the routes are /api/runs, /api/runs/RUN[?arm=ARM][&category=CATEGORY] and /api/experiments/EXPERIMENT";

/** Ids come from the URL: any non-empty text of sane length; the store binds it as a parameter. */
const Id = z.string().min(1).max(300);
const NoQuery = z.strictObject({});
const RunQuery = z.strictObject({ arm: z.string().min(1).max(200).optional(), category: z.string().min(1).max(200).optional() });

/** Answers one GET under /api; `segments` are the decoded path segments after "api". */
export function answerApi(store: Store, segments: readonly string[], query: URLSearchParams): ApiResult {
  try {
    const params = Object.fromEntries(query);
    if (segments.length === 1 && segments[0] === "runs") {
      parse(NoQuery, params, "query");
      return ok({ runs: store.listRuns().map((run) => runView(run, store.armTotals(run.runId))) });
    }
    if (segments.length === 2 && segments[0] === "runs") {
      // A run is named by its id or its label.
      const run = resolveRun(store, parse(Id, segments[1], "run id"));
      const runId = run.runId;
      const { arm, category } = parse(RunQuery, params, "query");
      const experiments = store.experiments(runId, { arm });
      return ok({
        run: { ...runView(run, store.armTotals(runId)), config: run.config },
        categories: categoryViews(store.experiments(runId)),
        experiments: experiments.filter((e) => category === undefined || e.category === category).map(experimentView),
      });
    }
    if (segments.length === 2 && segments[0] === "experiments") {
      const experimentId = parse(Id, segments[1], "experiment id");
      parse(NoQuery, params, "query");
      const experiment = store.getExperiment(experimentId);
      if (!experiment) throw new KoderzError("not_found", `no experiment with id ${experimentId}`, "open a run and pick one of its problems");
      const run = store.getRun(experiment.runId);
      return ok({
        run: runView(run, store.armTotals(run.runId)),
        experiment: { ...experimentView(experiment), finalCode: experiment.finalCode ?? null, tags: experiment.tags, criteria: experiment.scoreCriteria ?? [] },
        steps: store.steps(experimentId),
      });
    }
    throw new KoderzError("not_found", `no API route /api/${segments.join("/")}`, ROUTES_HINT);
  } catch (error) {
    if (error instanceof KoderzError) {
      return { status: statusFor(error), body: { error: { code: error.code, message: error.message, hint: error.hint ?? null } } };
    }
    throw error;
  }
}

function ok(body: ApiResult["body"]): ApiResult {
  return { status: 200, body };
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length ? `${what} ${issue.path.join(".")}` : what;
  throw new KoderzError("bad_input", `${where}: ${issue.message}`, ROUTES_HINT);
}

function statusFor(error: KoderzError): number {
  if (error.code === "not_found") return 404;
  if (error.code === "bad_input" || error.code === "usage") return 400;
  return 500;
}

function runView(run: RunRecord, arms: ArmTotals[]): RunView {
  return {
    runId: run.runId,
    kind: run.kind,
    mode: run.mode,
    stage: run.stage ?? null,
    label: run.label ?? null,
    status: run.status,
    startTime: run.startTime,
    endTime: run.endTime ?? null,
    tags: run.tags,
    models: calledModels(run),
    name: runName(run),
    suite: runSuite(run),
    problems: Math.max(0, ...arms.map((a) => a.experiments)),
    arms: arms.map((a) => ({
      arm: a.arm,
      experiments: a.experiments,
      successes: a.successes,
      successRate: a.experiments === 0 ? 0 : (a.successes / a.experiments) * 100,
      iterations: a.iterations,
      inputTokens: a.inputTokens,
      outputTokens: a.outputTokens,
      costUsd: a.costUsd,
      wallSeconds: a.wallSeconds,
    })),
    inputTokens: arms.reduce((total, a) => total + a.inputTokens, 0),
    outputTokens: arms.reduce((total, a) => total + a.outputTokens, 0),
    costUsd: arms.reduce((total, a) => total + a.costUsd, 0),
  };
}

function experimentView(e: ExperimentRecord): ExperimentView {
  return {
    experimentId: e.experimentId,
    runId: e.runId,
    arm: e.arm,
    problemId: e.problemId,
    success: e.success,
    iterations: e.iterations,
    inputTokens: e.inputTokens,
    outputTokens: e.outputTokens,
    costUsd: e.costUsd,
    wallSeconds: e.wallSeconds,
    verdict: e.verdict ?? null,
    category: e.category ?? null,
    tier: e.tier ?? null,
    score: e.score ?? null,
  };
}

/** The run's per-category totals as `results show` and the summary JSON count them, under the viewer's names. */
function categoryViews(experiments: readonly ExperimentRecord[]): CategoryView[] {
  return groupTotals(experiments.filter((e) => e.category), "category").map((group) => ({
    category: group.name,
    experiments: group.totalProblems,
    successes: group.successes,
    // The viewer's figures are percents (its page formats them); the JSON contract's are fractions.
    successRate: group.successRate * 100,
    meanScore: group.meanScore,
    costUsd: group.totalCost,
  }));
}
