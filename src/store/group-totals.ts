import { z } from "zod";
import type { ExperimentRecord } from "./records.js";

/**
 * A run's figures per category or per tier (suites beyond HumanEval): what the summary JSON,
 * `results show` and the rubric's role recommendation read. Units as in the summary: success_rate
 * in percent, costs in dollars; mean_score is the rubric's 1-5 mean, null when no case was scored.
 */
export const GroupTotalsSchema = z.strictObject({
  name: z.string(),
  total_problems: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  success_rate: z.number().min(0).max(100),
  mean_score: z.number().min(1).max(5).nullable(),
  total_cost: z.number().nonnegative(),
});
export type GroupTotals = z.infer<typeof GroupTotalsSchema>;

/** Totals per value of `key`, in name order; experiments without one are left out (empty when none has it). */
export function groupTotals(experiments: readonly ExperimentRecord[], key: "category" | "tier"): GroupTotals[] {
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
        total_problems: members.length,
        successes,
        success_rate: (100 * successes) / members.length,
        mean_score: scores.length ? Math.round((100 * scores.reduce((sum, s) => sum + s, 0)) / scores.length) / 100 : null,
        total_cost: members.reduce((sum, e) => sum + e.costUsd, 0),
      };
    });
}
