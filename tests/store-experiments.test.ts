import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { experimentIdFor, type Store } from "../src/store/index.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";

const RUN = "bench_0000abcd_20250101_100000";

let store: Store;
let dbPath: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dbPath, cleanup } = tempStore());
  store.createRun(makeRun({ runId: RUN }));
});
afterEach(() => cleanup());

function rowCounts(): { experiments: number; steps: number; tags: number } {
  const db = new Database(dbPath, { readonly: true });
  const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const counts = { experiments: count("experiments"), steps: count("steps"), tags: count("experiment_tags") };
  db.close();
  return counts;
}

describe("recording an experiment", () => {
  it("stores the experiment, its steps in order and its tags", () => {
    const experiment = { ...makeExperiment({ runId: RUN, arm: "iterative", problemId: "HumanEval/0", success: true, tags: ["easy"] }), finalCode: "x = 1\n", category: "strings", importance: 3 };
    const steps = makeSteps(experiment.experimentId, 3);
    expect(store.recordExperiment(experiment, [steps[2]!, steps[0]!, steps[1]!])).toBe(true);

    expect(store.experiments(RUN)).toEqual([{ ...experiment, tags: ["arm:iterative", "easy", "problem:HumanEval/0"] }]);
    expect(store.steps(experiment.experimentId)).toEqual(steps);
    expect(store.getExperiment(experiment.experimentId)?.finalCode).toBe("x = 1\n");
  });

  it("is atomic: a failure mid-way through the steps leaves no trace of the experiment", () => {
    const experiment = makeExperiment({ runId: RUN, arm: "iterative", problemId: "HumanEval/0", success: true });
    const steps = makeSteps(experiment.experimentId, 3);
    // The third step repeats index 1: the primary key fails after the experiment row and two steps were written.
    const broken = [steps[0]!, steps[1]!, { ...steps[2]!, index: 1 }];
    expect(() => store.recordExperiment(experiment, broken)).toThrow(/UNIQUE constraint failed/);
    expect(rowCounts()).toEqual({ experiments: 0, steps: 0, tags: 0 });
    expect(store.completedProblems(RUN, "iterative").size).toBe(0);

    // And the problem can then be recorded cleanly, as --resume would.
    expect(store.recordExperiment(experiment, steps)).toBe(true);
    expect(rowCounts()).toEqual({ experiments: 1, steps: 3, tags: 2 });
  });

  it("refuses steps that belong to another experiment, writing nothing", () => {
    const experiment = makeExperiment({ runId: RUN, arm: "iterative", problemId: "HumanEval/0", success: true });
    expect(() => store.recordExperiment(experiment, makeSteps("exp_other", 1))).toThrow(/belongs to experiment exp_other/);
    expect(rowCounts().experiments).toBe(0);
  });

  it("refuses an experiment of an unknown run", () => {
    const experiment = makeExperiment({ runId: "bench_missing0_20250101_100000", arm: "iterative", problemId: "HumanEval/0", success: true });
    expect(() => store.recordExperiment(experiment, [])).toThrow(/no run with id bench_missing0/);
  });

  it("a second write of the same (run, arm, problem) is a no-op: the first verdict stands and nothing counts twice", () => {
    const first = makeExperiment({ runId: RUN, arm: "iterative", problemId: "HumanEval/0", success: false, costUsd: 0.5 });
    expect(store.recordExperiment(first, makeSteps(first.experimentId, 2))).toBe(true);
    const again = { ...first, success: true, costUsd: 0.7 };
    expect(store.recordExperiment(again, makeSteps(first.experimentId, 4))).toBe(false);
    // Even under another experiment id the problem is not recorded twice.
    const renamed = { ...again, experimentId: "exp_different" };
    expect(store.recordExperiment(renamed, [])).toBe(false);

    const stored = store.experiments(RUN);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ success: false, costUsd: 0.5 });
    expect(store.steps(first.experimentId)).toHaveLength(2);
  });

  it("the same problem in another arm is a separate experiment", () => {
    for (const arm of ["zero-shot", "iterative"]) {
      const e = makeExperiment({ runId: RUN, arm, problemId: "HumanEval/0", success: arm === "iterative" });
      expect(store.recordExperiment(e, [])).toBe(true);
    }
    expect(store.experiments(RUN).map((e) => [e.arm, e.success])).toEqual([
      ["iterative", true],
      ["zero-shot", false],
    ]);
  });
});

describe("resume and queries", () => {
  beforeEach(() => {
    // Committed out of order, as concurrent workers would.
    for (const problem of [10, 2, 0]) {
      const e = makeExperiment({ runId: RUN, arm: "iterative", problemId: `HumanEval/${problem}`, success: problem !== 2 });
      store.recordExperiment(e, makeSteps(e.experimentId, 1));
    }
    const z = makeExperiment({ runId: RUN, arm: "zero-shot", problemId: "HumanEval/0", success: false });
    store.recordExperiment(z, []);
  });

  it("completedProblems is per arm", () => {
    expect(store.completedProblems(RUN, "iterative")).toEqual(new Set(["HumanEval/0", "HumanEval/2", "HumanEval/10"]));
    expect(store.completedProblems(RUN, "zero-shot")).toEqual(new Set(["HumanEval/0"]));
    expect(store.completedProblems(RUN, "deep")).toEqual(new Set());
  });

  it("lists experiments by arm, then problem in natural order, with filters", () => {
    expect(store.experiments(RUN).map((e) => `${e.arm} ${e.problemId}`)).toEqual([
      "iterative HumanEval/0",
      "iterative HumanEval/2",
      "iterative HumanEval/10",
      "zero-shot HumanEval/0",
    ]);
    expect(store.experiments(RUN, { arm: "zero-shot" })).toHaveLength(1);
    expect(store.experiments(RUN, { problem: "HumanEval/0" }).map((e) => e.arm)).toEqual(["iterative", "zero-shot"]);
  });

  it("totals per arm", () => {
    expect(store.armTotals(RUN)).toEqual([
      { arm: "iterative", experiments: 3, successes: 2, iterations: 3, inputTokens: 300, outputTokens: 150, costUsd: expect.closeTo(0.03, 10), wallSeconds: 6 },
      { arm: "zero-shot", experiments: 1, successes: 0, iterations: 1, inputTokens: 100, outputTokens: 50, costUsd: 0.01, wallSeconds: 2 },
    ]);
  });
});

describe("experiment ids", () => {
  it("are deterministic per (run, arm, problem), so a resumed run names experiments like an uninterrupted one", () => {
    expect(experimentIdFor(RUN, "iterative", "HumanEval/0")).toBe(experimentIdFor(RUN, "iterative", "HumanEval/0"));
    expect(experimentIdFor(RUN, "iterative", "HumanEval/0")).not.toBe(experimentIdFor(RUN, "zero-shot", "HumanEval/0"));
    expect(experimentIdFor(RUN, "iterative", "HumanEval/0")).toMatch(/^exp_[0-9a-f]{16}$/);
  });
});
