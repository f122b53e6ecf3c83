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
    expect(summary).toEqual({
      run_id: R,
      mode: "iterative",
      start_time: "2025-01-01T10:00:00.000Z",
      end_time: "2025-01-01T10:02:30.000Z",
      duration_seconds: 150,
      config: {
        local_model: "ollama:qwen3-coder:30b",
        problem_range: [0, 11],
        // Not in the config, so the problems that have experiments, in natural order.
        problems: ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/10"],
        max_iterations: 5,
      },
      results: [
        { experiment_id: id("HumanEval/0"), problem_id: "HumanEval/0", success: true, iterations: 1, cost: 0.01, input_tokens: 100, output_tokens: 50, wall_seconds: 2 },
        { experiment_id: id("HumanEval/1"), problem_id: "HumanEval/1", success: false, iterations: 5, cost: 0.05, input_tokens: 900, output_tokens: 400, wall_seconds: 20 },
        { experiment_id: id("HumanEval/2"), problem_id: "HumanEval/2", success: true, iterations: 2, cost: 0.02, input_tokens: 200, output_tokens: 80, wall_seconds: 5 },
        { experiment_id: id("HumanEval/10"), problem_id: "HumanEval/10", success: true, iterations: 3, cost: 0.03, input_tokens: 300, output_tokens: 120, wall_seconds: 8 },
      ],
      summary: {
        total_problems: 4,
        successes: 3,
        success_rate: 75, // 3 / 4, in percent
        total_cost: expect.closeTo(0.11, 12), // 0.01 + 0.05 + 0.02 + 0.03
        avg_cost: expect.closeTo(0.0275, 12), // 0.11 / 4
        avg_iterations: 2.75, // (1 + 5 + 2 + 3) / 4
        input_tokens: 1500,
        output_tokens: 650,
        wall_seconds: 35,
      },
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

  it("a run still going has no end time or duration, and zero problems give zero rates, not NaN", () => {
    store.createRun(makeRun({ runId: "r_empty", config: {} }));
    const summary = buildRunSummary(store, "r_empty");
    expect(summary).toMatchObject({
      end_time: null,
      duration_seconds: null,
      config: { local_model: null, problem_range: null, problems: [], max_iterations: null },
      summary: { total_problems: 0, successes: 0, success_rate: 0, total_cost: 0, avg_cost: 0, avg_iterations: 0 },
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

  it("has zero_shot, iterative and comparison with hand-computed values", () => {
    const summary = buildRunSummary(store, C);
    expect(ComparativeRunSummarySchema.safeParse(summary).success).toBe(true);
    expect(summary).not.toHaveProperty("results");
    expect(summary).toMatchObject({
      run_id: C,
      mode: "comparative",
      duration_seconds: 60,
      config: { local_model: "kimi-k2", problem_range: [0, 3], problems: ["HumanEval/0", "HumanEval/1", "HumanEval/2"], max_iterations: 5 },
      zero_shot: {
        summary: {
          total_problems: 3,
          successes: 1,
          success_rate: expect.closeTo(100 / 3, 10),
          total_cost: expect.closeTo(0.004, 12),
          avg_cost: expect.closeTo(0.004 / 3, 12),
          avg_iterations: 1,
          input_tokens: 180,
          output_tokens: 90,
          wall_seconds: 4,
        },
      },
      iterative: {
        summary: {
          total_problems: 3,
          successes: 2,
          success_rate: expect.closeTo(200 / 3, 10),
          total_cost: expect.closeTo(0.051, 12),
          avg_cost: expect.closeTo(0.017, 12),
          avg_iterations: expect.closeTo(10 / 3, 12),
          input_tokens: 950,
          output_tokens: 470,
          wall_seconds: 26,
        },
      },
      comparison: {
        success_rate_improvement: expect.closeTo(100 / 3, 10), // 66.67 − 33.33 points
        cost_difference: expect.closeTo(0.047, 12), // 0.051 − 0.004
        iteration_difference: expect.closeTo(7 / 3, 12), // 10/3 − 1
        input_tokens_difference: 770,
        output_tokens_difference: 380,
        wall_seconds_difference: 22,
      },
    });
    if (!("zero_shot" in summary)) throw new Error("expected a comparative summary");
    expect(summary.zero_shot.results.map((r) => [r.problem_id, r.success])).toEqual([
      ["HumanEval/0", true],
      ["HumanEval/1", false],
      ["HumanEval/2", false],
    ]);
  });

  it("writes results/<run_id>.json that the exported schema accepts", () => {
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
