import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../src/store/index.js";
import { integerHistogram } from "../src/report/histogram.js";
import { jsonForScript } from "../src/report/html-text.js";
import { buildReportData } from "../src/report/report-data.js";
import { MAX_CURVE_POINTS, parseEpisodeLines, readTrainingCurves } from "../src/report/train-metrics.js";
import { metricLineSchema } from "../training/metrics.js";
import { runReportCli } from "./fixtures/report-cli.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN } from "./fixtures/report-fixtures.js";
import { syntheticMetricsLog } from "./fixtures/report-metrics.js";
import { makeRun, tempStore } from "./fixtures/store-fixtures.js";

let store: Store;
let dir: string;
let dbPath: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dir, dbPath, cleanup } = tempStore());
});
afterEach(() => cleanup());

describe("koderz report on the command line", () => {
  it("names an unknown run and says how to find the right one", async () => {
    buildReportStore(store);
    const output = path.join(dir, "report.html");
    const result = await runReportCli(["report", BASELINE_RUN, "bench_deadbeef_20990101_000000", "--output", output, "--db", dbPath]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no run with id bench_deadbeef_20990101_000000");
    expect(result.stderr).toContain("koderz results list");
  });

  it("needs --output and at least one run", async () => {
    expect((await runReportCli(["report", BASELINE_RUN, "--db", dbPath])).exitCode).toBe(2);
    expect((await runReportCli(["report", "--output", "x.html", "--db", dbPath])).exitCode).toBe(2);
  });

  it("points at the file and line of a malformed metrics log", async () => {
    buildReportStore(store);
    const metrics = path.join(dir, "metrics.jsonl");
    writeFileSync(metrics, syntheticMetricsLog(30).split("\n").slice(0, 3).join("\n") + '\n{"type":"episode","episode":3,"return":"high"}\n');
    const result = await runReportCli(["report", BASELINE_RUN, "--output", path.join(dir, "r.html"), "--metrics", metrics, "--db", dbPath]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${metrics}:4:`);
  });

  it("keeps a run with no experiments yet in the runs table", async () => {
    store.createRun(makeRun({ runId: "bench_00000001_20250101_000000" }));
    const output = path.join(dir, "report.html");
    const result = await runReportCli(["report", "bench_00000001_20250101_000000", "--output", output, "--db", dbPath]);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(output, "utf8")).toContain("no experiments yet (running)");
  });
});

describe("report data", () => {
  it("labels arms of a comparative run and keeps the run order given", () => {
    buildReportStore(store);
    const data = buildReportData(store, [COMPARATIVE_RUN, BASELINE_RUN, COMPARATIVE_RUN]);
    // A legend names the run (no label here: its models · mode) with its short id beside it.
    expect(data.columns.map((c) => c.label)).toEqual([
      "kimi-k2+ollama:qwen3-coder:30b · comparative (bench_5e6f7a8b) · iterative",
      "kimi-k2+ollama:qwen3-coder:30b · comparative (bench_5e6f7a8b) · zero-shot",
      "ollama:qwen3-coder:30b · iterative (bench_1a2b3c4d)",
    ]);
    expect(data.columns.map((c) => c.models)).toEqual([["kimi-k2", "ollama:qwen3-coder:30b"], ["ollama:qwen3-coder:30b"], ["ollama:qwen3-coder:30b"]]);
  });
});

describe("histogram bins", () => {
  it("gives small integer ranges one bin per value", () => {
    const h = integerHistogram([[1, 1, 3], [2, 5]]);
    expect(h.labels).toEqual(["1", "2", "3", "4", "5"]);
    expect(h.counts).toEqual([[2, 0, 1, 0, 0], [0, 1, 0, 0, 1]]);
  });

  it("uses round bin widths for wide ranges and counts every value once", () => {
    const values = [0, 99, 100, 1_999, 2_000, 11_500];
    const h = integerHistogram([values]);
    expect(h.width).toBe(1_000);
    expect(h.labels.slice(0, 3)).toEqual(["0", "1,000", "2,000"]);
    expect(h.labels.at(-1)).toBe("11,000");
    expect(h.counts[0]![0]).toBe(3);
    expect(h.counts[0]!.reduce((t, n) => t + n, 0)).toBe(values.length);
  });
});

describe("train-meta metrics", () => {
  it("reads the line format training/metrics.ts writes", () => {
    const text = syntheticMetricsLog(60);
    for (const line of text.trim().split("\n")) expect(metricLineSchema.safeParse(JSON.parse(line)).success).toBe(true);
    expect(parseEpisodeLines(text, "m.jsonl")).toHaveLength(60);
  });

  it("thins long curves but keeps the last point", () => {
    const file = path.join(dir, "long.jsonl");
    writeFileSync(file, syntheticMetricsLog(5_000));
    const curves = readTrainingCurves(file);
    expect(curves.episodes).toBe(5_000);
    expect(curves.meanReturn.x).toHaveLength(MAX_CURVE_POINTS);
    expect(curves.cumulativeRegret!.x.at(-1)).toBe(4_999);
    expect(curves.env).toBe("synthetic");
  });

  it("refuses a log without episodes", () => {
    expect(() => parseEpisodeLines('{"type":"comparison","env":"synthetic","episodes":0,"rows":[]}\n', "c.jsonl")).toThrow(/no episode lines/);
  });
});

describe("JSON inside a script element", () => {
  it("cannot close the element, and parses back to the same value", () => {
    const value = { text: "</script><script>alert(1)</script> & <!-- \u2028" };
    const encoded = jsonForScript(value);
    expect(encoded).not.toMatch(/<\/?script/i);
    expect(encoded).not.toContain("<!--");
    expect(JSON.parse(encoded)).toEqual(value);
  });
});
