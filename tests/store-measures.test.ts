import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRunSummary, openStore, type ExperimentRecord, type StepRecord } from "../src/store/index.js";
import { makeExperiment, makeRun } from "./fixtures/store-fixtures.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// Schema version 3: each experiment keeps what the sandbox measured (the final code's complexity
// and maintainability, the drafts' outputs), the same on both engines; the summary JSON of a
// deep run reports code quality next to correctness and what the K drafts bought.

let postgres: TestPostgres;
const dir = mkdtempSync(path.join(tmpdir(), "koderz-measures-"));

beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = "bench_0000beef_20250101_100000";
const CODE = "def f(x):\n    return x\n";

function coderStep(experimentId: string, index: number, code: string, visiblePassFraction: number, prompt = "Complete the following Python function"): StepRecord {
  return { experimentId, index, agent: "Coder", action: "model", model: "m", prompt, response: code, code, visiblePassFraction, inputTokens: 10, outputTokens: 5, costUsd: 0, latencyMs: 1 };
}

function deepExperiment(problemId: string, success: boolean, fields: Partial<ExperimentRecord>): ExperimentRecord {
  return { ...makeExperiment({ runId: RUN, arm: "deep", problemId, success }), ...fields };
}

describe.each(["sqlite", "postgres"] as const)("the %s store", (engine) => {
  it("keeps the measures, and the deep run's summary reports code quality and the drafts' figures", async () => {
    const location = engine === "sqlite" ? path.join(dir, "store.db") : await postgres.createDatabase("measures");
    const store = openStore({ path: location });
    try {
      store.createRun(makeRun({ runId: RUN, mode: "deep" }));
      const measured = deepExperiment("HumanEval/0", true, {
        measures: { code: { cyclomatic: 4, meanCyclomatic: 4, halsteadVolume: 50, sloc: 8, maintainability: 60 }, drafts: { inputs: 2, outputs: [["a", "b"], ["a", "b"]] } },
      });
      store.recordExperiment(measured, [coderStep(measured.experimentId, 0, CODE, 1), coderStep(measured.experimentId, 1, CODE, 1)]);
      const failing = deepExperiment("HumanEval/1", false, {
        measures: { code: { cyclomatic: 2, meanCyclomatic: 1.5, halsteadVolume: 20, sloc: 4, maintainability: 80 }, draftVerdicts: { drafts: [false, true], hybrid: false } },
      });
      store.recordExperiment(failing, [
        coderStep(failing.experimentId, 0, CODE, 0),
        coderStep(failing.experimentId, 1, "def f(x):\n    return -x\n", 0.5),
        coderStep(failing.experimentId, 2, CODE, 1, "Two candidates passed the most tests. Candidate A: ..."),
      ]);
      const unparsable = deepExperiment("HumanEval/2", false, { measures: { code: { error: "SyntaxError: invalid syntax (line 1)" } } });
      store.recordExperiment(unparsable, []);

      expect(store.getExperiment(measured.experimentId)!.measures).toEqual(measured.measures);
      expect(store.getExperiment(unparsable.experimentId)!.measures).toEqual(unparsable.measures);
      expect(store.getExperiment(failing.experimentId)!.measures).toEqual(failing.measures);

      // Measured afterwards (`results measure`): the measures change, the verdict does not.
      const later = deepExperiment("HumanEval/3", true, {});
      store.recordExperiment(later, []);
      store.setMeasures(later.experimentId, { code: { cyclomatic: 2, meanCyclomatic: 2, halsteadVolume: 9, sloc: 3, maintainability: 75 } });
      expect(store.getExperiment(later.experimentId)).toMatchObject({ success: true, verdict: later.verdict, measures: { code: { cyclomatic: 2, maintainability: 75 } } });
      expect(() => store.setMeasures("no-such-experiment", {})).toThrow(/no experiment with id no-such-experiment/);

      const summary = buildRunSummary(store, RUN);
      if ("comparison" in summary) throw new Error("expected a single-arm summary");
      expect(summary.results.map((r) => [r.problemId, r.cyclomaticComplexity, r.maintainabilityIndex])).toEqual([
        ["HumanEval/0", 4, 60],
        ["HumanEval/1", 2, 80],
        ["HumanEval/2", null, null],
        ["HumanEval/3", 2, 75],
      ]);
      expect(summary.codeQuality).toEqual({
        measured: 3,
        meanCyclomaticComplexity: 2.67,
        meanMaintainabilityIndex: 71.67,
        solvedMeanCyclomaticComplexity: 3,
        solvedMeanMaintainabilityIndex: 67.5,
      });
      expect(summary.heavyMode).toMatchObject({
        experiments: 2,
        meanDrafts: 2,
        codeConvergenceRate: 0.5,
        behaviourMeasured: 1,
        meanBehaviourAgreement: 1,
        behaviourConvergenceRate: 1,
        hybridRuns: 1,
        meanHybridGain: 0.5,
        bestOfKBeatsFirstRate: 0.5,
        // Only HumanEval/1's drafts were scored: the second passes, the first and the hybrid do not.
        verdictsMeasured: 1,
        verdictBestOfKBeatsFirstRate: 1,
        verdictHybridGain: -1,
      });
    } finally {
      store.close();
    }
  });
});

describe("a store written before schema version 3", () => {
  it("is upgraded in place: its experiments stay and have no measures, new ones keep theirs", () => {
    const file = path.join(dir, "old.db");
    const store = openStore({ path: file });
    store.createRun(makeRun({ runId: RUN, mode: "deep" }));
    const old = deepExperiment("HumanEval/0", true, {});
    store.recordExperiment(old, [coderStep(old.experimentId, 0, CODE, 1)]);
    store.close();
    const db = new Database(file);
    // Back to version 2: the later migrations (measures, then steps' actions) run again on opening.
    db.exec("ALTER TABLE experiments DROP COLUMN measures; ALTER TABLE steps DROP COLUMN action; DELETE FROM schema_version WHERE version >= 3");
    db.close();

    const upgraded = openStore({ path: file });
    try {
      expect(upgraded.getExperiment(old.experimentId)).toMatchObject({ problemId: "HumanEval/0", success: true });
      expect(upgraded.getExperiment(old.experimentId)!.measures).toBeUndefined();
      const fresh = deepExperiment("HumanEval/1", true, { measures: { code: { cyclomatic: 1, meanCyclomatic: 1, halsteadVolume: 4.75, sloc: 2, maintainability: 90 } } });
      upgraded.recordExperiment(fresh, []);
      expect(upgraded.getExperiment(fresh.experimentId)!.measures?.code).toMatchObject({ cyclomatic: 1, maintainability: 90 });
    } finally {
      upgraded.close();
    }
  });
});
