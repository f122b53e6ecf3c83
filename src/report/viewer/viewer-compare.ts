import { compareProblemIds, knownFigures, resolveRun, type Store } from "../../store/index.js";
import { compareRunArms, loadRunArm, orderRunArms, type ComparedRun, type PairwiseComparison, type RunArm } from "../compare.js";

/**
 * The viewer's compare page: runs side by side, problem by problem. The columns and the
 * figures over the shared problems (wins, losses, ties, McNemar's p against the first column)
 * are `koderz compare`'s; the rows are every problem any column attempted, each with which
 * columns solved it, so the page can show the problems the runs differ on or failed.
 */

/** One column: a run, or one arm of a run with several. */
export interface CompareColumn extends ComparedRun {
  /** How the page links the column: the run id, or RUN:ARM when the run has several arms. */
  reference: string;
}

/** One column's result on a problem. */
export interface CompareCell {
  experimentId: string;
  success: boolean;
  verdict: string | null;
  iterations: number;
  /** null when the run did not log costs. */
  costUsd: number | null;
}

export interface CompareRow {
  problemId: string;
  category: string | null;
  /** One per column, in column order; null where that column has no result for the problem. */
  results: (CompareCell | null)[];
  /** Not every column has the same outcome (a missing result counts as one). */
  differ: boolean;
  /** Some column failed the problem. */
  failed: boolean;
}

export interface ViewerComparison {
  /** Baseline first (`koderz compare`'s order: the run staged baseline, else the order given). */
  columns: CompareColumn[];
  sharedProblems: number;
  note: string | null;
  /** Each later column against the first, over the shared problems. */
  pairs: PairwiseComparison[];
  rows: CompareRow[];
}

/**
 * Compares runs named as the page and `koderz compare` name them: RUN, RUN:ARM or a label. A run
 * named whole that has several arms (a comparative run) gives a column per arm.
 */
export function viewerComparison(store: Store, references: readonly string[]): ViewerComparison {
  const runArms: RunArm[] = [];
  const armCounts = new Map<string, number>();
  for (const reference of references) {
    for (const runArm of columnsOf(store, reference)) {
      armCounts.set(runArm.run.runId, store.armTotals(runArm.run.runId).length);
      if (!runArms.some((r) => r.run.runId === runArm.run.runId && r.arm === runArm.arm)) runArms.push(runArm);
    }
  }
  const { ordered } = orderRunArms(runArms);
  const comparison = compareRunArms(ordered);
  const columns = comparison.runs.map((run, i) => ({
    ...run,
    reference: (armCounts.get(run.runId) ?? 1) > 1 ? `${run.runId}:${ordered[i]!.arm}` : run.runId,
  }));
  const problems = [...new Set(ordered.flatMap((r) => [...r.experiments.keys()]))].sort(compareProblemIds);
  const rows = problems.map((problemId): CompareRow => {
    const results = ordered.map((r): CompareCell | null => {
      const e = r.experiments.get(problemId);
      if (!e) return null;
      return { experimentId: e.experimentId, success: e.success, verdict: e.verdict ?? null, iterations: e.iterations, costUsd: knownFigures(r.run).cost ? e.costUsd : null };
    });
    const outcomes = new Set(results.map((cell) => (cell === null ? "none" : cell.success ? "pass" : "fail")));
    const category = ordered.map((r) => r.experiments.get(problemId)?.category).find((c) => c !== undefined) ?? null;
    return { problemId, category, results, differ: outcomes.size > 1, failed: outcomes.has("fail") };
  });
  return { columns, sharedProblems: comparison.sharedProblems.length, note: comparison.note, pairs: comparison.pairs, rows };
}

function columnsOf(store: Store, reference: string): RunArm[] {
  // A whole run (by id or label; a label may hold a colon): every arm of it. Else RUN:ARM.
  const whole = store.findRun(reference) ?? (store.listRuns({ label: reference }).length ? resolveRun(store, reference) : undefined);
  if (!whole) return [loadRunArm(store, reference)];
  const arms = store.armTotals(whole.runId).map((totals) => totals.arm);
  if (arms.length <= 1) return [loadRunArm(store, whole.runId)];
  return arms.map((arm) => loadRunArm(store, whole.runId, arm));
}
