import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  buildRunSummary,
  ComparativeRunSummarySchema,
  openStore,
  RunSummarySchema,
  SingleRunSummarySchema,
  writeRunSummary,
  type Store,
} from "../src/store/index.js";
import { makeExperiment, makeRun, makeSteps, tempStore, type ExperimentSpec } from "./fixtures/store-fixtures.js";

let store: Store;
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dir, cleanup } = tempStore());
});
afterEach(() => cleanup());

function record(target: Store, spec: ExperimentSpec): void {
  const experiment = makeExperiment(spec);
  target.recordExperiment(experiment, makeSteps(experiment.experimentId, 1));
}

const R = "bench_00000001_20250101_100000";
// An iterative run over four problems, committed out of order.
const ITERATIVE: Omit<ExperimentSpec, "runId" | "arm">[] = [
  { problemId: "HumanEval/10", success: true, iterations: 3, inputTokens: 300, outputTokens: 120, costUsd: 0.03, wallSeconds: 8 },
  { problemId: "HumanEval/0", success: true, iterations: 1, inputTokens: 100, outputTokens: 50, costUsd: 0.01, wallSeconds: 2 },
  { problemId: "HumanEval/2", success: true, iterations: 2, inputTokens: 200, outputTokens: 80, costUsd: 0.02, wallSeconds: 5 },
  { problemId: "HumanEval/1", success: false, iterations: 5, inputTokens: 900, outputTokens: 400, costUsd: 0.05, wallSeconds: 20 },
];

function recordIterativeRun(target: Store, order: readonly number[] = [0, 1, 2, 3]): void {
  target.createRun(makeRun({ runId: R, startTime: "2025-01-01T10:00:00.000Z", config: { localModel: "ollama:qwen3-coder:30b", problemRange: [0, 11], maxIterations: 5 } }));
  for (const index of order) record(target, { runId: R, arm: "iterative", ...ITERATIVE[index]! });
  target.finishRun(R, "finished", "2025-01-01T10:02:30.000Z");
}

describe("summary of a single-arm run", () => {
  it("has exactly the documented fields with hand-computed values", () => {
    recordIterativeRun(store);
    const summary = buildRunSummary(store, R);
    const id = (problem: string) => makeExperiment({ runId: R, arm: "iterative", problemId: problem, success: true }).experimentId;
    const result = (problem: string, success: boolean, iterations: number, costUsd: number, inputTokens: number, outputTokens: number, wallSeconds: number) => ({
      experimentId: id(problem),
      problemId: problem,
      success,
      iterations,
      costUsd,
      inputTokens,
      outputTokens,
      wallSeconds,
      category: null,
      tier: null,
      score: null,
      cyclomaticComplexity: null,
      maintainabilityIndex: null,
    });
    expect(summary).toEqual({
      schemaVersion: 1,
      runId: R,
      label: null,
      name: "ollama:qwen3-coder:30b · iterative",
      kind: "benchmark",
      mode: "iterative",
      status: "finished",
      startTime: "2025-01-01T10:00:00.000Z",
      endTime: "2025-01-01T10:02:30.000Z",
      durationSeconds: 150,
      config: {
        models: { local: "ollama:qwen3-coder:30b", frontier: null, byAgent: {}, called: ["ollama:qwen3-coder:30b"] },
        settings: { maxIterations: 5, checkpointEvery: null, trajectories: null, debugRounds: null, concurrency: null, budget: null, policyPath: null, ladder: null, cache: null },
        dataset: { suite: null, path: null },
        sandbox: null,
        modelConfigFile: null,
        problemRange: [0, 11],
        // Not in the config, so the problems that have experiments, in natural order.
        problems: ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/10"],
      },
      results: [
        result("HumanEval/0", true, 1, 0.01, 100, 50, 2),
        result("HumanEval/1", false, 5, 0.05, 900, 400, 20),
        result("HumanEval/2", true, 2, 0.02, 200, 80, 5),
        result("HumanEval/10", true, 3, 0.03, 300, 120, 8),
      ],
      summary: {
        totalProblems: 4,
        successes: 3,
        successRate: 0.75, // 3 / 4, a fraction
        totalCostUsd: expect.closeTo(0.11, 12), // 0.01 + 0.05 + 0.02 + 0.03
        avgCostUsd: expect.closeTo(0.0275, 12), // 0.11 / 4
        avgIterations: 2.75, // (1 + 5 + 2 + 3) / 4
        inputTokens: 1500,
        outputTokens: 650,
        wallSeconds: 35,
      },
      byCategory: null,
      byTier: null,
      codeQuality: null,
      heavyMode: null,
      // No --ladder: no escalations to report.
      escalations: null,
    });
    expect(SingleRunSummarySchema.safeParse(summary).success).toBe(true);
  });

  it("is the same for a run killed, resumed and written twice as for an uninterrupted one", () => {
    recordIterativeRun(store);
    const other = tempStore();
    try {
      // Two experiments, then a "kill": reopen, rewrite one of them (a no-op), finish the rest.
      recordIterativeRun(other.store, [2, 0]);
      other.store.close();
      const resumed = openStore({ path: other.dbPath });
      record(resumed, { runId: R, arm: "iterative", ...ITERATIVE[2]!, success: false, costUsd: 9 });
      for (const index of [3, 1]) record(resumed, { runId: R, arm: "iterative", ...ITERATIVE[index]! });
      resumed.finishRun(R, "finished", "2025-01-01T10:02:30.000Z");
      expect(buildRunSummary(resumed, R)).toEqual(buildRunSummary(store, R));
      resumed.close();
    } finally {
      other.cleanup();
    }
  });

  it("a run still going has no end time or duration, and zero problems give unknown rates (null), not 0 or NaN", () => {
    store.createRun(makeRun({ runId: "r_empty", config: {} }));
    const summary = buildRunSummary(store, "r_empty");
    expect(summary).toMatchObject({
      endTime: null,
      durationSeconds: null,
      status: "running",
      config: { models: { local: null, frontier: null, called: [] }, problemRange: null, problems: [], settings: { maxIterations: null } },
      summary: { totalProblems: 0, successes: 0, successRate: null, totalCostUsd: 0, avgCostUsd: null, avgIterations: null },
    });
  });

  it("an import that logged no costs or tokens has null costs and tokens, not $0", () => {
    store.createRun(makeRun({ runId: "r_import", kind: "import", mode: "fast", config: {}, tags: ["cost:unknown", "tokens:unknown"] }));
    record(store, { runId: "r_import", arm: "fast", problemId: "HumanEval/0", success: true, costUsd: 0, inputTokens: 0, outputTokens: 0 });
    const summary = buildRunSummary(store, "r_import");
    expect(SingleRunSummarySchema.parse(summary)).toMatchObject({
      results: [{ problemId: "HumanEval/0", costUsd: null, inputTokens: null, outputTokens: null }],
      summary: { successRate: 1, totalCostUsd: null, avgCostUsd: null, inputTokens: null, outputTokens: null },
    });
  });
});

describe("summary of a comparative run", () => {
  const C = "bench_00000002_20250101_110000";

  beforeEach(() => {
    store.createRun(
      makeRun({
        runId: C,
        mode: "comparative",
        startTime: "2025-01-01T11:00:00.000Z",
        // snake_case config keys are read too
        config: { local_model: "kimi-k2", problem_range: [0, 3], problem_ids: ["HumanEval/0", "HumanEval/1", "HumanEval/2"], max_iterations: 5 },
      }),
    );
    const zero: [string, boolean, number, number, number, number, number][] = [
      ["HumanEval/0", true, 1, 50, 20, 0.001, 1],
      ["HumanEval/1", false, 1, 60, 30, 0.001, 1],
      ["HumanEval/2", false, 1, 70, 40, 0.002, 2],
    ];
    const iterative: typeof zero = [
      ["HumanEval/0", true, 1, 50, 20, 0.001, 1],
      ["HumanEval/1", true, 4, 400, 200, 0.02, 10],
      ["HumanEval/2", false, 5, 500, 250, 0.03, 15],
    ];
    for (const [arm, rows] of [["zero-shot", zero], ["iterative", iterative]] as const) {
      for (const [problemId, success, iterations, inputTokens, outputTokens, costUsd, wallSeconds] of rows) {
        record(store, { runId: C, arm, problemId, success, iterations, inputTokens, outputTokens, costUsd, wallSeconds });
      }
    }
    store.finishRun(C, "finished", "2025-01-01T11:01:00.000Z");
  });

  it("has zeroShot, iterative and comparison with hand-computed values", () => {
    const summary = buildRunSummary(store, C);
    expect(ComparativeRunSummarySchema.safeParse(summary).success).toBe(true);
    expect(summary).not.toHaveProperty("results");
    expect(summary).toMatchObject({
      runId: C,
      mode: "comparative",
      durationSeconds: 60,
      config: { models: { local: "kimi-k2" }, problemRange: [0, 3], problems: ["HumanEval/0", "HumanEval/1", "HumanEval/2"], settings: { maxIterations: 5 } },
      zeroShot: {
        summary: {
          totalProblems: 3,
          successes: 1,
          successRate: expect.closeTo(1 / 3, 10),
          totalCostUsd: expect.closeTo(0.004, 12),
          avgCostUsd: expect.closeTo(0.004 / 3, 12),
          avgIterations: 1,
          inputTokens: 180,
          outputTokens: 90,
          wallSeconds: 4,
        },
      },
      iterative: {
        summary: {
          totalProblems: 3,
          successes: 2,
          successRate: expect.closeTo(2 / 3, 10),
          totalCostUsd: expect.closeTo(0.051, 12),
          avgCostUsd: expect.closeTo(0.017, 12),
          avgIterations: expect.closeTo(10 / 3, 12),
          inputTokens: 950,
          outputTokens: 470,
          wallSeconds: 26,
        },
      },
      comparison: {
        successRateDifference: expect.closeTo(1 / 3, 10), // 2/3 − 1/3
        costDifferenceUsd: expect.closeTo(0.047, 12), // 0.051 − 0.004
        iterationDifference: expect.closeTo(7 / 3, 12), // 10/3 − 1
        inputTokensDifference: 770,
        outputTokensDifference: 380,
        wallSecondsDifference: 22,
      },
    });
    if (!("zeroShot" in summary)) throw new Error("expected a comparative summary");
    expect(summary.zeroShot.results.map((r) => [r.problemId, r.success])).toEqual([
      ["HumanEval/0", true],
      ["HumanEval/1", false],
      ["HumanEval/2", false],
    ]);
  });

  it("writes results/<runId>.json that the exported schema accepts", () => {
    const file = writeRunSummary(store, C, path.join(dir, "results"));
    expect(file).toBe(path.join(dir, "results", `${C}.json`));
    const parsed = RunSummarySchema.parse(JSON.parse(readFileSync(file, "utf8")));
    expect(parsed).toEqual(buildRunSummary(store, C));
  });
});

describe("the summary schema", () => {
  it("rejects extra and missing fields", () => {
    recordIterativeRun(store);
    const summary = buildRunSummary(store, R);
    expect(RunSummarySchema.safeParse({ ...summary, extra: 1 }).success).toBe(false);
    const { summary: _dropped, ...missing } = summary as { summary: unknown };
    expect(RunSummarySchema.safeParse(missing).success).toBe(false);
  });
});
