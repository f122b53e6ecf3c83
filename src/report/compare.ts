import { KoderzError } from "../errors.js";
import { DEFAULT_REGRESSION_ALPHA } from "./regression-alpha.js";
import { calledModels, compareProblemIds, SCHEMA_VERSION, knownFigures, resolveRun, runName, runSuite, type ExperimentRecord, type RunRecord, type Store } from "../store/index.js";
import {
  mcnemarExactP,
  pairedBootstrapInterval,
  pairedCounts,
  type BootstrapOptions,
  type PairedOutcome,
} from "./statistics.js";

/**
 * Compares runs problem by problem against a baseline: the first run, or with stage labels
 * the run labelled "baseline". Every figure is computed on the problems all compared runs
 * share, so a run is never credited for problems the others did not attempt.
 */

/** One side of a comparison: a run, and which of its arms (zero-shot, iterative, ...) is compared. */
export interface RunArm {
  run: RunRecord;
  arm: string;
  /** How the run is named in output: "name (id)", plus ":arm" when the run has several arms. */
  label: string;
  experiments: ReadonlyMap<string, ExperimentRecord>;
}

export interface ComparedRun {
  label: string;
  /** The run's label, else "model · mode · suite". */
  name: string;
  runId: string;
  arm: string;
  stage: string | null;
  mode: string;
  models: string[];
  suite: string | null;
  status: string;
  startTime: string;
  /** Problems this arm has in the store, shared or not. */
  attemptedProblems: number;
  /** The rest are over the shared problems only. */
  problems: number;
  successes: number;
  /** Fraction, 0..1. */
  successRate: number;
  /** null when the run did not log them. */
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  /** null when nothing was solved, or the costs are unknown. */
  costPerSolved: number | null;
}

export interface PairwiseComparison {
  baseline: string;
  candidate: string;
  wins: number;
  losses: number;
  ties: number;
  /** Candidate minus baseline success rate, as a fraction. */
  successRateDifference: number;
  interval: { lower: number; upper: number; confidence: number; resamples: number };
  mcnemarP: number;
  /** Wins, losses and ties per category (the baseline's), when the shared problems span several; else null. */
  byCategory: CategoryTally[] | null;
  /** Which problems: won (candidate solved, baseline not), lost (the reverse), differ (either). */
  problems: { won: string[]; lost: string[]; differ: string[] };
}

export interface CategoryTally {
  category: string;
  wins: number;
  losses: number;
  ties: number;
}

export interface Comparison {
  /** Baseline first. */
  runs: ComparedRun[];
  /** "stage" when at least one run carries a stage label, else the order given. */
  ordering: "stage" | "given";
  sharedProblems: string[];
  /** Set when some run attempted problems outside the shared set: says what was left out. */
  note: string | null;
  /** Each later run against the baseline. */
  pairs: PairwiseComparison[];
}

/** "RUN" or "RUN:ARM" as typed on the command line (run ids never contain a colon; a label may not either, for this). */
export function parseRunReference(reference: string): { runId: string; arm?: string } {
  const colon = reference.lastIndexOf(":");
  if (colon === -1) return { runId: reference };
  const runId = reference.slice(0, colon);
  const arm = reference.slice(colon + 1);
  if (!runId || !arm) throw new KoderzError("usage", `cannot read run reference ${JSON.stringify(reference)}`, "write RUN or RUN:ARM");
  return { runId, arm };
}

/**
 * Loads one arm of a run. The arm is the one named in the reference, else `defaultArm`
 * (--arm), else the run's only arm; a run with several arms and no choice is a usage error.
 */
export function loadRunArm(store: Store, reference: string, defaultArm?: string): RunArm {
  // A label with a colon in it names a whole run; else the reference is RUN or RUN:ARM.
  const whole = store.findRun(reference) ?? (store.listRuns({ label: reference }).length ? resolveRun(store, reference) : undefined);
  const { runId: runReference, arm: named } = whole ? { runId: whole.runId, arm: undefined } : parseRunReference(reference);
  const run = resolveRun(store, runReference);
  const runId = run.runId;
  const arms = store.armTotals(runId).map((totals) => totals.arm);
  if (arms.length === 0) {
    throw new KoderzError("bad_input", `run ${runId} has no experiments to compare`, "pick a run that finished at least one problem");
  }
  const wanted = named ?? defaultArm;
  let arm: string;
  if (wanted !== undefined) {
    if (!arms.includes(wanted)) {
      throw new KoderzError("not_found", `run ${runId} has no arm ${wanted}`, `its arms: ${arms.join(", ")}`);
    }
    arm = wanted;
  } else if (arms.length === 1) {
    arm = arms[0]!;
  } else {
    throw new KoderzError(
      "usage",
      `run ${runId} has several arms (${arms.join(", ")})`,
      `choose one with --arm ARM, or write ${runId}:${arms[0]}`,
    );
  }
  const experiments = new Map(store.experiments(runId, { arm }).map((e) => [e.problemId, e]));
  const title = `${runName(run)} (${runId})`;
  return { run, arm, label: arms.length > 1 ? `${title}:${arm}` : title, experiments };
}

/**
 * Baseline first. When any run carries a stage label, runs labelled "baseline" come first and
 * the rest follow by start time (so baseline → after_surgery → finetuned reads in the order
 * the work was done, whatever order the ids were typed in); otherwise the order given stands
 * and the first run is the baseline. The sort is stable, so equal keys keep the order given.
 */
export function orderRunArms(runArms: readonly RunArm[]): { ordered: RunArm[]; ordering: "stage" | "given" } {
  if (!runArms.some((r) => r.run.stage)) return { ordered: [...runArms], ordering: "given" };
  const rank = (r: RunArm) => (r.run.stage === "baseline" ? 0 : 1);
  const ordered = [...runArms].sort(
    (a, b) => rank(a) - rank(b) || (a.run.startTime < b.run.startTime ? -1 : a.run.startTime > b.run.startTime ? 1 : 0),
  );
  return { ordered, ordering: "stage" };
}

/** The comparison of already loaded runs; pure, so it is tested without a store. */
export function compareRunArms(runArms: readonly RunArm[], bootstrap: BootstrapOptions = {}): Comparison {
  if (runArms.length === 0) throw new KoderzError("usage", "nothing to compare", "name at least one run");
  const { ordered, ordering } = orderRunArms(runArms);
  const shared = sharedProblemIds(ordered);
  if (shared.length === 0) {
    throw new KoderzError("bad_input", "the runs share no problems, so there is nothing to compare", "compare runs over the same problems");
  }
  const leftOut = ordered
    .map((r) => ({ label: r.label, count: r.experiments.size - shared.length }))
    .filter((entry) => entry.count > 0);
  const note = leftOut.length
    ? "problems not in every run are left out: " + leftOut.map((entry) => `${entry.count} of ${entry.label}`).join(", ")
    : null;

  const runs = ordered.map((r) => summarize(r, shared));
  const baseline = ordered[0]!;
  const pairs = ordered.slice(1).map((candidate) => comparePair(baseline, candidate, shared, bootstrap));
  return { runs, ordering, sharedProblems: shared, note, pairs };
}

/** Loads the referenced runs and compares them. */
export function compareRuns(
  store: Store,
  references: readonly string[],
  options: { arm?: string; bootstrap?: BootstrapOptions } = {},
): Comparison {
  // One run with several arms (a comparative run) and no arm chosen: its arms against each other.
  if (references.length === 1 && options.arm === undefined && !references[0]!.includes(":")) {
    const run = resolveRun(store, references[0]!);
    const arms = store.armTotals(run.runId).map((totals) => totals.arm);
    if (arms.length > 1) return compareRunArms(arms.map((arm) => loadRunArm(store, run.runId, arm)), options.bootstrap);
  }
  const runArms = references.map((reference) => loadRunArm(store, reference, options.arm));
  return compareRunArms(runArms, options.bootstrap);
}

/** The comparison as `compare --json` and MCP compare_runs give it (docs/schemas/compare.schema.json). */
export function compareDocument(comparison: Comparison, gates: { failBelow: number | undefined; failOnRegression: boolean; failures: string[] }) {
  return {
    schemaVersion: SCHEMA_VERSION,
    ...comparison,
    gates: { failBelow: gates.failBelow ?? null, failOnRegression: gates.failOnRegression, alpha: DEFAULT_REGRESSION_ALPHA, failures: gates.failures },
  };
}

export interface GateOptions {
  /** Fail when a compared run's success rate (fraction, over the shared problems) is below this. */
  failBelow?: number;
  /** Fail when a later run is worse than the baseline and McNemar's p is below `alpha`. */
  failOnRegression?: boolean;
  /** Significance level of the regression gate; 0.05 by default. */
  alpha?: number;
}

export { DEFAULT_REGRESSION_ALPHA };

/**
 * Why a CI gate fails, one sentence per reason; empty when it passes. A regression needs a
 * lower success rate AND a significant McNemar test: one problem flipping between two runs
 * of a sampled model is noise, and a gate that fails on noise gets switched off.
 */
export function gateFailures(comparison: Comparison, options: GateOptions): string[] {
  const failures: string[] = [];
  if (options.failBelow !== undefined) {
    for (const run of comparison.runs) {
      if (run.successRate < options.failBelow) {
        failures.push(`${run.label}: success rate ${percent(run.successRate)} is below ${percent(options.failBelow)}`);
      }
    }
  }
  if (options.failOnRegression) {
    const alpha = options.alpha ?? DEFAULT_REGRESSION_ALPHA;
    for (const pair of comparison.pairs) {
      if (pair.successRateDifference < 0 && pair.mcnemarP < alpha) {
        failures.push(
          `${pair.candidate}: regression against ${pair.baseline}: ${points(pair.successRateDifference)} ` +
            `(${pair.wins} wins, ${pair.losses} losses; McNemar p = ${pair.mcnemarP.toPrecision(3)} < ${alpha})`,
        );
      }
    }
  }
  return failures;
}

function sharedProblemIds(runArms: readonly RunArm[]): string[] {
  const [first, ...rest] = runArms;
  return [...first!.experiments.keys()]
    .filter((problem) => rest.every((r) => r.experiments.has(problem)))
    .sort(compareProblemIds);
}

function summarize(runArm: RunArm, shared: readonly string[]): ComparedRun {
  const experiments = shared.map((problem) => runArm.experiments.get(problem)!);
  const successes = experiments.filter((e) => e.success).length;
  const known = knownFigures(runArm.run);
  const costUsd = known.cost ? experiments.reduce((total, e) => total + e.costUsd, 0) : null;
  return {
    label: runArm.label,
    name: runName(runArm.run),
    runId: runArm.run.runId,
    arm: runArm.arm,
    stage: runArm.run.stage ?? null,
    mode: runArm.run.mode,
    models: calledModels(runArm.run),
    suite: runSuite(runArm.run),
    status: runArm.run.status,
    startTime: runArm.run.startTime,
    attemptedProblems: runArm.experiments.size,
    problems: experiments.length,
    successes,
    successRate: successes / experiments.length,
    inputTokens: known.tokens ? experiments.reduce((total, e) => total + e.inputTokens, 0) : null,
    outputTokens: known.tokens ? experiments.reduce((total, e) => total + e.outputTokens, 0) : null,
    costUsd,
    costPerSolved: successes === 0 || costUsd === null ? null : costUsd / successes,
  };
}

function comparePair(baseline: RunArm, candidate: RunArm, shared: readonly string[], bootstrap: BootstrapOptions): PairwiseComparison {
  const pairs: PairedOutcome[] = shared.map((problem) => ({
    baseline: baseline.experiments.get(problem)!.success,
    candidate: candidate.experiments.get(problem)!.success,
  }));
  const counts = pairedCounts(pairs);
  const interval = pairedBootstrapInterval(pairs, bootstrap);
  return {
    baseline: baseline.label,
    candidate: candidate.label,
    wins: counts.wins,
    losses: counts.losses,
    ties: counts.ties,
    successRateDifference: interval.estimate,
    interval: { lower: interval.lower, upper: interval.upper, confidence: interval.confidence, resamples: interval.resamples },
    mcnemarP: mcnemarExactP(counts.losses, counts.wins),
    byCategory: categoryTallies(baseline, candidate, shared),
    problems: {
      won: shared.filter((problem) => candidate.experiments.get(problem)!.success && !baseline.experiments.get(problem)!.success),
      lost: shared.filter((problem) => !candidate.experiments.get(problem)!.success && baseline.experiments.get(problem)!.success),
      differ: shared.filter((problem) => candidate.experiments.get(problem)!.success !== baseline.experiments.get(problem)!.success),
    },
  };
}

/** Wins, losses and ties per category, in category order; nothing when all problems share one category. */
function categoryTallies(baseline: RunArm, candidate: RunArm, shared: readonly string[]): CategoryTally[] | null {
  const byCategory = new Map<string, PairedOutcome[]>();
  for (const problem of shared) {
    const category = baseline.experiments.get(problem)!.category ?? "uncategorised";
    const outcome = { baseline: baseline.experiments.get(problem)!.success, candidate: candidate.experiments.get(problem)!.success };
    byCategory.set(category, [...(byCategory.get(category) ?? []), outcome]);
  }
  if (byCategory.size < 2) return null;
  return [...byCategory.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, outcomes]) => {
      const { wins, losses, ties } = pairedCounts(outcomes);
      return { category, wins, losses, ties };
    });
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function points(fraction: number): string {
  const value = fraction * 100;
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)} points`;
}
