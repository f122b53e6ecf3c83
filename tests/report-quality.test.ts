import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { renderHtmlReport } from "../src/report/html-report.js";
import { buildReportData } from "../src/report/report-data.js";
import type { ExperimentRecord, StepRecord, Store } from "../src/store/index.js";
import { makeExperiment, makeRun, tempStore } from "./fixtures/store-fixtures.js";

// The HTML report's code-quality and heavy-mode table: a deep run with measured code and drafts
// gets a row with its figures; a run with neither adds no section.

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  ({ store, cleanup } = tempStore());
});
afterEach(() => cleanup());

const DEEP = "bench_0000dee9_20250101_100000";
const FAST = "bench_0000fa57_20250101_100000";

function draft(experimentId: string, index: number, code: string, visiblePassFraction: number): StepRecord {
  return { experimentId, index, agent: "Coder", action: "model", model: "m", prompt: "Complete", response: code, code, visiblePassFraction, inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1 };
}

function measured(problemId: string, cyclomatic: number, maintainability: number): ExperimentRecord {
  return { ...makeExperiment({ runId: DEEP, arm: "deep", problemId, success: true }), measures: { code: { cyclomatic, meanCyclomatic: cyclomatic, halsteadVolume: 10, sloc: 3, maintainability } } };
}

describe("the report's code quality and heavy mode table", () => {
  it("shows each measured arm's complexity, maintainability and draft figures; an unmeasured run gets no row", () => {
    store.createRun(makeRun({ runId: DEEP, mode: "deep" }));
    const a = measured("HumanEval/0", 2, 70);
    store.recordExperiment(a, [draft(a.experimentId, 0, "def f():\n    return 1\n", 0), draft(a.experimentId, 1, "def f():\n    return 1\n", 1)]);
    const b = measured("HumanEval/1", 4, 50);
    store.recordExperiment(b, [draft(b.experimentId, 0, "def f():\n    return 1\n", 1), draft(b.experimentId, 1, "def g(x):\n    return [x]\n", 1)]);
    store.createRun(makeRun({ runId: FAST, mode: "fast" }));
    store.recordExperiment(makeExperiment({ runId: FAST, arm: "fast", problemId: "HumanEval/0", success: true }), []);

    const data = buildReportData(store, [DEEP, FAST]);
    const deep = data.columns.find((c) => c.runId === DEEP)!;
    expect(deep.codeQuality).toMatchObject({ measured: 2, meanCyclomaticComplexity: 3, meanMaintainabilityIndex: 60 });
    expect(deep.heavyMode).toMatchObject({ experiments: 2, codeConvergenceRate: 0.5, bestOfKBeatsFirstRate: 0.5, hybridRuns: 0 });
    expect(data.columns.find((c) => c.runId === FAST)).toMatchObject({ codeQuality: null, heavyMode: null });

    const html = renderHtmlReport(data, "/* chart.js */");
    const table = /<table id="quality-table">([\s\S]*?)<\/table>/.exec(html)![1]!;
    const rows = [...table.matchAll(/<tr data-column="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual([`${DEEP}:deep`]);
    const value = (field: string) => new RegExp(`data-field="${field}" data-value="([^"]*)"`).exec(rows[0]![2]!)![1];
    expect(value("cyclomatic")).toBe("3");
    expect(value("maintainability")).toBe("60");
    // Shares are fractions (the JSON contract); the cell's text shows them as percents.
    expect(value("codeConvergence")).toBe("0.5");
    expect(value("bestOfK")).toBe("0.5");
    expect(value("hybridGain")).toBe("");
  });

  it("is left out when no run was measured", () => {
    store.createRun(makeRun({ runId: FAST, mode: "fast" }));
    store.recordExperiment(makeExperiment({ runId: FAST, arm: "fast", problemId: "HumanEval/0", success: true }), []);
    expect(renderHtmlReport(buildReportData(store, [FAST]), "/* chart.js */")).not.toContain("quality-table");
  });
});
