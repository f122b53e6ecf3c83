import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderComparison } from "../src/cli/compare-action.js";
import { compareRuns } from "../src/report/compare.js";
import type { Store } from "../src/store/index.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";

// `koderz compare` over a mixed-category suite: wins, losses and ties per category beside the overall ones.

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  ({ store, cleanup } = tempStore());
});
afterEach(() => cleanup());

const BASE = "bench_00000001_20250101_100000";
const HEAVY = "bench_00000002_20250101_110000";

// problem, category, baseline solved, candidate solved
const OUTCOMES: [string, string, boolean, boolean][] = [
  ["mixed/m1", "math", false, true],
  ["mixed/m2", "math", false, true],
  ["mixed/m3", "math", true, true],
  ["mixed/r1", "reasoning", true, false],
  ["mixed/r2", "reasoning", false, false],
  ["mixed/c1", "coding", true, true],
];

function record(runId: string, pick: (row: (typeof OUTCOMES)[number]) => boolean): void {
  store.createRun(makeRun({ runId, mode: "standard" }));
  for (const row of OUTCOMES) {
    const experiment = { ...makeExperiment({ runId, arm: "standard", problemId: row[0], success: pick(row) }), category: row[1] };
    store.recordExperiment(experiment, makeSteps(experiment.experimentId, 1));
  }
}

describe("compare per category", () => {
  it("counts wins, losses and ties per category, and they add up to the overall figures", () => {
    record(BASE, (row) => row[2]);
    record(HEAVY, (row) => row[3]);
    const comparison = compareRuns(store, [BASE, HEAVY]);
    const [pair] = comparison.pairs;
    expect(pair).toMatchObject({ wins: 2, losses: 1, ties: 3 });
    expect(pair!.byCategory).toEqual([
      { category: "coding", wins: 0, losses: 0, ties: 1 },
      { category: "math", wins: 2, losses: 0, ties: 1 },
      { category: "reasoning", wins: 0, losses: 1, ties: 1 },
    ]);
    const text = renderComparison(comparison);
    expect(text).toContain("per category");
    expect(text).toMatch(/\(bench_00000002_20250101_110000\)\s+math\s+2\s+0\s+1/);
  });

  it("says nothing per category when every problem is of one category (plain HumanEval)", () => {
    store.createRun(makeRun({ runId: BASE }));
    store.createRun(makeRun({ runId: HEAVY }));
    for (const runId of [BASE, HEAVY]) {
      const experiment = { ...makeExperiment({ runId, arm: "iterative", problemId: "HumanEval/0", success: runId === HEAVY }), category: "humaneval" };
      store.recordExperiment(experiment, makeSteps(experiment.experimentId, 1));
    }
    const comparison = compareRuns(store, [BASE, HEAVY]);
    expect(comparison.pairs[0]!.byCategory).toBeNull();
    expect(renderComparison(comparison)).not.toContain("per category");
  });
});
