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
    .argument("<runs...>", "run ids or labels; RUN:ARM picks one arm of a run with several (e.g. bench_x:zero-shot); one run with several arms compares its arms")
    .option("--arm <arm>", "the arm to compare in runs with several arms (zero-shot, iterative, ...)")
    .option("--json", "print the comparison as JSON (each pair lists the problems won, lost and differing)")
    .option("--list <which>", "print the problems each run won, lost or that differ from the baseline: won, lost or differ")
    .option("--fail-below <rate>", "exit 1 if any run's success rate is below RATE: 0.8, 80 or 80% (a value of 1 or less is a fraction)")
    .option("--fail-on-regression", `exit 1 if a later run is worse than the baseline with McNemar p < ${DEFAULT_REGRESSION_ALPHA}`)
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .addHelpText("after", EXAMPLES)
    .action(async (references: string[], raw: unknown) => (await import("./compare-action.js")).compareAction(references, raw));
}

const EXAMPLES = `
Examples:
  koderz compare bench_a1b2c3d4_20261207_101500              # a comparative run: its zero-shot arm against its iterative arm
  koderz compare qwen-baseline kimi-k2 --list lost         # two runs by label: the problems kimi-k2 lost
  koderz compare baseline-run candidate-run --json | jq '.pairs[0].problems.won'
  koderz compare nightly-0 nightly-1 --fail-on-regression   # exit 1 on a significant regression (CI)
`;
