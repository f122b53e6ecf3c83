import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderHtmlReport } from "../src/report/html-report.js";
import { buildReportData } from "../src/report/report-data.js";
import { readTrainingCurves } from "../src/report/train-metrics.js";
import { openStore } from "../src/store/index.js";
import { formatPooledTable, poolHeldOut } from "../training/held-out-table.js";
import { MetricsFile } from "../training/metrics.js";
import { outcome, seed } from "./fixtures/held-out-fixtures.js";

describe("the pooled held-out table", () => {
  const table = poolHeldOut([1, 2], [seed(0), seed(10)], "usd");

  it("pools the seeds and states success and dollars against the dearest arm", () => {
    expect(table.episodes).toBe(8);
    expect(table.dearest).toBe("always-deep");
    const row = (name: string) => table.rows.find((r) => r.name === name)!;
    expect(row("learned")).toMatchObject({ episodes: 8, successOfDearest: 1, escalations: 1 });
    expect(row("learned").costOfDearest).toBeCloseTo(0.2, 9);
    expect(row("cascade").success.mean).toBeCloseTo(0.75, 9);
    expect(row("cascade").costPerSolved).toBeCloseTo((8 * 0.02) / 6, 9);
    expect(row("always-fast").success.low).toBeLessThan(0.5);
    expect(row("always-fast").success.high).toBeGreaterThan(0.5);
    expect(row("always-deep").cumulativeRegret).toBeCloseTo(8 * (1.99 - 1.9), 9);
    expect(row("oracle")).toMatchObject({ cumulativeRegret: 0 });
    expect(table.verdicts).toEqual([
      "learned: 100.0% of always-deep's success at 20.0% of its cost (target >= 95% at <= 25%): met",
      "the hand cascade does not beat the learned policy in both success and cost (cascade 75.0% success, learned 100.0%)",
      // In hindsight the oracle solves every task, the cheapest way costing a tenth of always-deep's.
      "reach: in hindsight (the oracle's cheapest solves) 95% of always-deep's success costs at least 10.0% of its cost: the target is within reach",
    ]);
    expect(formatPooledTable(table, "replay")).toMatch(/pooled over seeds 1, 2 .*costs in US dollars as logged/);
  });

  it("says plainly when the cascade beats the learned policy", () => {
    const worse = [seed(0), seed(10)].map((played) => ({
      ...played,
      byController: played.byController.map((c) => (c.name === "learned" ? { ...c, outcomes: c.outcomes.map((o, i) => outcome(o.taskId, i < 2, 0.05)) } : c)),
    }));
    expect(poolHeldOut([1, 2], worse, "usd").verdicts[1]).toMatch(/^the learned policy does NOT beat the hand cascade on this data/);
    expect(formatPooledTable(poolHeldOut([1, 2], worse, "tokens"), "replay")).toMatch(/costs in TOKENS: no price is known/);
  });

  it("travels through the metrics file into the report's training section", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "koderz-held-out-"));
    const file = path.join(dir, "replay.metrics.jsonl");
    const metrics = new MetricsFile(file);
    const first = outcome("T/0", true, 0.02);
    metrics.write({ type: "episode", env: "replay", episode: 0, taskId: "T/0", mode: "fast", agents: ["Coder"], return: first.return, success: true, tokens: 1000, costUsd: 0.02, oracleReturn: 1.99, regret: 0.01, cumulativeRegret: 0.01 });
    metrics.write({ type: "held-out-table", env: "replay", ...table, curve: [{ costWeight: 0, success: 1, costPerTask: 0.1 }, { costWeight: 10, success: 0.9, costPerTask: 0.01 }] });
    await metrics.close();
    const curves = readTrainingCurves(file);
    expect(curves.heldOut?.rows.map((r) => r.name)).toEqual(["learned", "always-fast", "always-deep", "cascade", "oracle"]);
    expect(curves.heldOut?.curve).toHaveLength(2);

    const store = openStore({ path: path.join(dir, "koderz.db") });
    try {
      const html = renderHtmlReport(buildReportData(store, [], [curves]), "/* chart.js */");
      expect(html).toContain("Held-out table · replay.metrics.jsonl");
      expect(html).toContain("the hand cascade does not beat the learned policy");
      expect(html).toContain("Quality-cost curve");
    } finally {
      store.close();
    }
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(2);
  });
});
