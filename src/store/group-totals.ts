import { z } from "zod";
import type { ExperimentRecord } from "./records.js";

/**
 * A run's figures per category or per tier (suites beyond HumanEval): what the summary JSON,
 * `results show` and the rubric's role recommendation read. Units as in the summary: successRate
 * a fraction, costs in dollars (null when the run's costs were not logged); meanScore is the
 * rubric's 1-5 mean, null when no case was scored.
 */
export const GroupTotalsSchema = z.strictObject({
  name: z.string(),
  totalProblems: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  successRate: z.number().min(0).max(1),
  meanScore: z.number().min(1).max(5).nullable(),
  totalCost: z.number().nonnegative().nullable(),
});
export type GroupTotals = z.infer<typeof GroupTotalsSchema>;

/** Totals per value of `key`, in name order; experiments without one are left out (empty when none has it). */
export function groupTotals(experiments: readonly ExperimentRecord[], key: "category" | "tier", costKnown = true): GroupTotals[] {
  const groups = new Map<string, ExperimentRecord[]>();
  for (const experiment of experiments) {
    const name = experiment[key];
    if (name !== undefined) groups.set(name, [...(groups.get(name) ?? []), experiment]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, members]) => {
      const successes = members.filter((e) => e.success).length;
      const scores = members.flatMap((e) => (e.score === undefined ? [] : [e.score]));
      return {
        name,
        totalProblems: members.length,
        successes,
        successRate: successes / members.length,
        meanScore: scores.length ? Math.round((100 * scores.reduce((sum, s) => sum + s, 0)) / scores.length) / 100 : null,
        totalCost: costKnown ? members.reduce((sum, e) => sum + e.costUsd, 0) : null,
      };
    });
}
