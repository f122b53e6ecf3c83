import { z } from "zod";
import { KoderzError } from "../../errors.js";
import {
  groupTotals,
  knownFigures,
  resolveRun,
  runListing,
  SCHEMA_VERSION,
  type ArmTotals,
  type ExperimentRecord,
  type RunListing,
  type RunRecord,
  type StepRecord,
  type Store,
  type StoredCriterion,
} from "../../store/index.js";
import { viewerComparison, type ViewerComparison } from "./viewer-compare.js";

/**
 * The viewer's JSON API over the store. Every request queries the store afresh, so runs that a
 * benchmark commits while the viewer is open show up on the next page load. Nothing here writes.
 * Every answer is a document of the project's JSON contract: camelCase, shares as fractions,
 * `schemaVersion`, null for what the run did not log (an import's costs), never 0.
 *
 *   GET /api/runs                      every run, oldest first, with per-arm totals
 *   GET /api/runs/:run[?arm=ARM][&category=CATEGORY]
 *                                      a run (by id or label), its totals per category, and its experiments
 *   GET /api/experiments/:experimentId an experiment and its steps, in order
 *   GET /api/compare?runs=REF,REF[,...] runs (RUN, RUN:ARM or a label; a run with several arms
 *                                      gives a column per arm) problem by problem
 */

/** A run as `results list --json` lists it, with each arm's iterations and wall time besides. */
export type RunView = Omit<RunListing, "arms"> & { arms: (RunListing["arms"][number] & { iterations: number; wallSeconds: number })[] };

export interface ExperimentView {
  experimentId: string;
  runId: string;
  arm: string;
  problemId: string;
  success: boolean;
  iterations: number;
  /** null when the run did not log tokens or costs. */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  wallSeconds: number;
  verdict: string | null;
  /** A suite case's kind of work (agentic, coding, ...) and tier; HumanEval's problems have their suite's name as category. */
  category: string | null;
  tier: string | null;
  /** rubric and tool-trace: the 1-5 score. */
  score: number | null;
}

/** One step of a trajectory; a text the step did not produce is null. */
export interface StepView {
  index: number;
  agent: string;
  action: string;
  model: string | null;
  prompt: string | null;
  response: string | null;
  code: string | null;
  testOutput: string | null;
  /** Fraction of the visible tests passed, 0..1. */
  visiblePassFraction: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  latencyMs: number;
}

/** One category's experiments in a run, every arm together. */
export interface CategoryView {
  category: string;
  experiments: number;
  successes: number;
  /** Fraction, 0..1. */
  successRate: number;
  /** The mean 1-5 score of the experiments that have one, or null. */
  meanScore: number | null;
  costUsd: number | null;
}

interface Document {
  schemaVersion: typeof SCHEMA_VERSION;
}

export interface RunsResponse extends Document {
  runs: RunView[];
}

export interface RunResponse extends Document {
  run: RunView & { config: Record<string, unknown> };
  /** Every category of the run (whatever the filter), by name. */
  categories: CategoryView[];
  experiments: ExperimentView[];
}

export interface ExperimentResponse extends Document {
  run: RunView;
  /** criteria: how each rubric criterion or tool-trace check fared. */
  experiment: ExperimentView & { finalCode: string | null; tags: string[]; criteria: StoredCriterion[] };
  steps: StepView[];
}

export type CompareResponse = Document & ViewerComparison;

export interface ApiError extends Document {
  error: { code: string; message: string; hint: string | null };
}

export interface ApiResult {
  status: number;
  body: RunsResponse | RunResponse | ExperimentResponse | CompareResponse | ApiError;
}

const ROUTES_HINT = "the routes are /api/runs, /api/runs/RUN[?arm=ARM][&category=CATEGORY], /api/experiments/EXPERIMENT and /api/compare?runs=RUN,RUN";

/** Ids come from the URL: any non-empty text of sane length; the store binds it as a parameter. */
const Id = z.string().min(1).max(300);
const NoQuery = z.strictObject({});
const RunQuery = z.strictObject({ arm: z.string().min(1).max(200).optional(), category: z.string().min(1).max(200).optional() });
/** Run references are ids, labels or RUN:ARM; a comma never occurs in an id, and the page encodes one in a label. */
const CompareQuery = z.strictObject({
  runs: z
    .string()
    .max(4000)
    .transform((text) => text.split(",").map((reference) => reference.trim()).filter(Boolean))
    .pipe(z.array(Id).min(1, "name at least one run").max(12, "compare at most 12 runs at once")),
});

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
      const known = knownFigures(run);
      return ok({
        run: { ...runView(run, store.armTotals(runId)), config: run.config },
        categories: categoryViews(store.experiments(runId), known.cost),
        experiments: experiments.filter((e) => category === undefined || e.category === category).map((e) => experimentView(e, run)),
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
        experiment: { ...experimentView(experiment, run), finalCode: experiment.finalCode ?? null, tags: experiment.tags, criteria: experiment.scoreCriteria ?? [] },
        steps: store.steps(experimentId).map((step) => stepView(step, run)),
      });
    }
    if (segments.length === 1 && segments[0] === "compare") {
      const { runs } = parse(CompareQuery, params, "query");
      return ok(viewerComparison(store, runs));
    }
    throw new KoderzError("not_found", `no API route /api/${segments.join("/")}`, ROUTES_HINT);
  } catch (error) {
    if (error instanceof KoderzError) {
      return { status: statusFor(error), body: { schemaVersion: SCHEMA_VERSION, error: { code: error.code, message: error.message, hint: error.hint ?? null } } };
    }
    throw error;
  }
}

/** A document without its schemaVersion, which ok() adds. */
type Content<T> = T extends Document ? Omit<T, "schemaVersion"> : never;

function ok(body: Content<Exclude<ApiResult["body"], ApiError>>): ApiResult {
  return { status: 200, body: { schemaVersion: SCHEMA_VERSION, ...body } };
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
  const listing = runListing(run, arms);
  return { ...listing, arms: listing.arms.map((arm, i) => ({ ...arm, iterations: arms[i]!.iterations, wallSeconds: arms[i]!.wallSeconds })) };
}

function experimentView(e: ExperimentRecord, run: RunRecord): ExperimentView {
  const known = knownFigures(run);
  return {
    experimentId: e.experimentId,
    runId: e.runId,
    arm: e.arm,
    problemId: e.problemId,
    success: e.success,
    iterations: e.iterations,
    inputTokens: known.tokens ? e.inputTokens : null,
    outputTokens: known.tokens ? e.outputTokens : null,
    costUsd: known.cost ? e.costUsd : null,
    wallSeconds: e.wallSeconds,
    verdict: e.verdict ?? null,
    category: e.category ?? null,
    tier: e.tier ?? null,
    score: e.score ?? null,
  };
}

function stepView(s: StepRecord, run: RunRecord): StepView {
  const known = knownFigures(run);
  return {
    index: s.index,
    agent: s.agent,
    action: s.action,
    model: s.model ?? null,
    prompt: s.prompt ?? null,
    response: s.response ?? null,
    code: s.code ?? null,
    testOutput: s.testOutput ?? null,
    visiblePassFraction: s.visiblePassFraction ?? null,
    inputTokens: known.tokens ? s.inputTokens : null,
    outputTokens: known.tokens ? s.outputTokens : null,
    costUsd: known.cost ? s.costUsd : null,
    latencyMs: s.latencyMs,
  };
}

/** The run's per-category totals as `results show` and the summary JSON count them. */
function categoryViews(experiments: readonly ExperimentRecord[], costKnown: boolean): CategoryView[] {
  return groupTotals(experiments.filter((e) => e.category), "category", costKnown).map((group) => ({
    category: group.name,
    experiments: group.totalProblems,
    successes: group.successes,
    successRate: group.successRate,
    meanScore: group.meanScore,
    costUsd: group.totalCost,
  }));
}
