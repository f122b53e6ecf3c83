import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRunSummary, openStore, type ExperimentRecord } from "../src/store/index.js";
import { makeExperiment, makeRun, makeSteps } from "./fixtures/store-fixtures.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// Suite runs store each experiment's suite, category, tier, rubric score and criteria (schema
// version 2), the same on both engines, and the summary JSON groups them per category and tier.

let postgres: TestPostgres;
const dir = mkdtempSync(path.join(tmpdir(), "koderz-suite-columns-"));

beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = "bench_0000abcd_20250101_100000";

function scored(problemId: string, fields: Partial<ExperimentRecord>): ExperimentRecord {
  return { ...makeExperiment({ runId: RUN, arm: "fast", problemId, success: fields.success ?? true }), suite: "coder-rubric", ...fields };
}

describe.each(["sqlite", "postgres"] as const)("the %s store", (engine) => {
  it("keeps suite, category, tier, score and criteria, and the summary groups them", async () => {
    const location = engine === "sqlite" ? path.join(dir, "store.db") : await postgres.createDatabase("suite_columns");
    const store = openStore({ path: location });
    try {
      store.createRun(makeRun({ runId: RUN, mode: "fast" }));
      const criteria = [
        { name: "correct", weight: 3, by: "check", value: 1, detail: "passed" },
        { name: "readable", weight: 1, by: "judge", value: 0, detail: "", error: "the judge's answer is not JSON" },
      ];
      const first = scored("coder-rubric/a", { category: "coding", tier: "T1", score: 4, scoreCriteria: criteria });
      store.recordExperiment(first, makeSteps(first.experimentId, 1));
      const second = scored("coder-rubric/b", { category: "math", tier: "T2", score: 2, success: false });
      store.recordExperiment(second, makeSteps(second.experimentId, 1));
      const plain = { ...makeExperiment({ runId: RUN, arm: "fast", problemId: "coder-rubric/c", success: true }), category: "coding", tier: "T1" };
      store.recordExperiment(plain, makeSteps(plain.experimentId, 1));

      const back = store.getExperiment(first.experimentId)!;
      expect(back).toMatchObject({ suite: "coder-rubric", category: "coding", tier: "T1", score: 4, scoreCriteria: criteria });
      expect(store.getExperiment(plain.experimentId)!.score).toBeUndefined();

      const summary = buildRunSummary(store, RUN);
      if ("comparison" in summary) throw new Error("expected a single-arm summary");
      expect(summary.byCategory).toEqual([
        { name: "coding", totalProblems: 2, successes: 2, successRate: 1, meanScore: 4, totalCost: expect.any(Number) },
        { name: "math", totalProblems: 1, successes: 0, successRate: 0, meanScore: 2, totalCost: expect.any(Number) },
      ]);
      expect(summary.byTier!.map((t) => [t.name, t.totalProblems, t.meanScore])).toEqual([
        ["T1", 2, 4],
        ["T2", 1, 2],
      ]);
      expect(summary.results.find((r) => r.problemId === "coder-rubric/b")).toMatchObject({ category: "math", tier: "T2", score: 2, success: false });
    } finally {
      store.close();
    }
  });
});
