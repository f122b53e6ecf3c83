import type { Command } from "commander";
import { DEFAULT_REGRESSION_ALPHA } from "../report/regression-alpha.js";

/**
 * `koderz compare RUN_A RUN_B [RUN_C ...]`: each run against the baseline, problem by
 * problem, with gates for CI. Exit 1 when a gate fails, 2 on bad usage. Its flags here; the
 * store and the comparison (compare-action.ts) load once they parse.
 */
export function registerCompare(program: Command): void {
  program
    .command("compare")
    .argument("<runs...>", "run ids; RUN:ARM picks one arm of a run with several (e.g. bench_x:zero-shot)")
    .option("--arm <arm>", "the arm to compare in runs with several arms (zero-shot, iterative, ...)")
    .option("--json", "print the comparison as JSON")
    .option("--fail-below <rate>", "exit 1 if any run's success rate is below RATE: 0.8, 80 or 80% (a value of 1 or less is a fraction)")
    .option("--fail-on-regression", `exit 1 if a later run is worse than the baseline with McNemar p < ${DEFAULT_REGRESSION_ALPHA}`)
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .action(async (references: string[], raw: unknown) => (await import("./compare-action.js")).compareAction(references, raw));
}
