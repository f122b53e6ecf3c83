import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runName, type ExperimentRecord, type Store } from "../src/store/index.js";
import { collectPageErrors, launchChromium, recordForeignRequests } from "./helpers/browser.js";
import { runReportCli } from "./fixtures/report-cli.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN, DEEP_RUN, HOSTILE_PROBLEM, HOSTILE_TEXT } from "./fixtures/report-fixtures.js";
import { poolHeldOut } from "../training/held-out-table.js";
import { outcome, seed } from "./fixtures/held-out-fixtures.js";
import { syntheticMetricsLog } from "./fixtures/report-metrics.js";
import { tempStore } from "./fixtures/store-fixtures.js";

/**
 * `koderz report` end to end: a store written through the Store API, the CLI writes the HTML,
 * headless Chromium opens it from file://, and every number read back from the page (table
 * cells, matrix cells, chart.js datasets) is checked against the store.
 */

const RUNS = [BASELINE_RUN, COMPARATIVE_RUN, DEEP_RUN];
const EPISODES = 300;

interface ChartData {
  labels?: string[];
  datasets: { label: string; data: unknown[] }[];
}

let store: Store;
let cleanup: () => void;
let reportFile: string;
let metricsFile: string;
let replayMetricsFile: string;
/** The replay study's quality-cost curve: the learned policy at two cost weights. */
const CURVE = [{ costWeight: 0, success: 1, costPerTask: 0.1 }, { costWeight: 10, success: 0.75, costPerTask: 0.01 }];
let browser: Browser;
let page: Page;
let pageErrors: string[];
let foreignRequests: string[];

/** Each arm of each run, as the store has it. */
function arms(): { runId: string; arm: string; experiments: ExperimentRecord[] }[] {
  return RUNS.flatMap((runId) => {
    const experiments = store.experiments(runId);
    return [...new Set(experiments.map((e) => e.arm))].map((arm) => ({ runId, arm, experiments: experiments.filter((e) => e.arm === arm) }));
  });
}

/** Legends name a run by its id without the timestamp (unique in this fixture), plus the arm for the comparative run. */
function armLabel(runId: string, arm: string): string {
  const short = runId.replace(/_\d{8}_\d{6}$/, "");
  // A legend names the run (its label, else model · mode · suite) with its short id beside it.
  const title = `${runName(store.getRun(runId))} (${short})`;
  return runId === COMPARATIVE_RUN ? `${title} · ${arm}` : title;
}

async function chartData(id: string): Promise<ChartData> {
  return page.evaluate((canvasId) => {
    const chart = (window as unknown as { Chart: { getChart(c: Element): { data: unknown } | undefined } }).Chart.getChart(document.getElementById(canvasId)!);
    if (!chart) throw new Error(`no chart on #${canvasId}`);
    return JSON.parse(JSON.stringify(chart.data)) as ChartData;
  }, id);
}

beforeAll(async () => {
  let dir: string;
  let dbPath: string;
  ({ store, cleanup, dir, dbPath } = tempStore());
  buildReportStore(store);
  metricsFile = path.join(dir, "train-meta.metrics.jsonl");
  writeFileSync(metricsFile, syntheticMetricsLog(EPISODES));
  replayMetricsFile = path.join(dir, "replay.metrics.jsonl");
  const first = outcome("T/0", true, 0.02);
  writeFileSync(
    replayMetricsFile,
    [
      { type: "episode", env: "replay", episode: 0, taskId: "T/0", mode: "fast", agents: ["Coder"], return: first.return, success: true, tokens: 1000, costUsd: 0.02, oracleReturn: 1.99, regret: 0.01, cumulativeRegret: 0.01 },
      { type: "held-out-table", env: "replay", ...poolHeldOut([1, 2], [seed(0), seed(10)], "usd"), curve: CURVE },
    ].map((line) => JSON.stringify(line)).join("\n") + "\n",
  );
  reportFile = path.join(dir, "out", "report.html");
  const result = await runReportCli(["report", ...RUNS, "--output", reportFile, "--metrics", metricsFile, "--metrics", replayMetricsFile, "--db", dbPath]);
  expect(result.stderr).toContain(`wrote ${reportFile}`);
  expect(result.exitCode).toBe(0);

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pageErrors = collectPageErrors(page);
  foreignRequests = await recordForeignRequests(page, (url) => url.startsWith("file://"));
  await page.goto(pathToFileURL(reportFile).href);
  await page.waitForFunction(() => document.querySelectorAll("canvas").length > 0);
});

afterAll(async () => {
  await browser?.close();
  cleanup?.();
});

describe("koderz report, opened in Chromium", () => {
  it("opens from file:// without any network request or script error", async () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
    const html = readFileSync(reportFile, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
  });

  it("lists every run arm with the store's problems, success rate, tokens and cost", async () => {
    for (const { runId, arm, experiments } of arms()) {
      const row = page.locator(`#runs-table tr[data-column="${runId}:${arm}"]`);
      const solved = experiments.filter((e) => e.success).length;
      const rate = (solved / experiments.length) * 100;
      const input = experiments.reduce((t, e) => t + e.inputTokens, 0);
      const output = experiments.reduce((t, e) => t + e.outputTokens, 0);
      const cost = experiments.reduce((t, e) => t + e.costUsd, 0);
      expect(await row.locator('[data-field="solved"]').textContent()).toBe(`${solved} / ${experiments.length}`);
      expect(await row.locator('[data-field="successRate"]').textContent()).toBe(`${rate.toFixed(1)}%`);
      expect(Number(await row.locator('[data-field="successRate"]').getAttribute("data-value"))).toBeCloseTo(rate, 9);
      expect(await row.locator('[data-field="tokens"]').textContent()).toBe(`${input.toLocaleString("en-US")} / ${output.toLocaleString("en-US")}`);
      expect(await row.locator('[data-field="costUsd"]').textContent()).toBe(`$${cost.toFixed(4)}`);
      expect(Number(await row.locator('[data-field="costUsd"]').getAttribute("data-value"))).toBeCloseTo(cost, 12);
    }
    expect(await page.locator("#runs-table tbody tr").count()).toBe(arms().length);
  });

  it("charts success by mode and model from the arms' step models", async () => {
    const data = await chartData("chart-success-by-mode-model");
    const groups = new Map<string, { solved: number; total: number }>();
    for (const { arm, experiments } of arms()) {
      const models = [...new Set(experiments.flatMap((e) => store.steps(e.experimentId).map((s) => s.model!)))].sort().join(" + ");
      const group = groups.get(`${models}\u0000${arm}`) ?? { solved: 0, total: 0 };
      group.solved += experiments.filter((e) => e.success).length;
      group.total += experiments.length;
      groups.set(`${models}\u0000${arm}`, group);
    }
    expect(data.labels).toEqual(["deep", "iterative", "zero-shot"]);
    expect(data.datasets.map((d) => d.label)).toEqual(["kimi-k2", "kimi-k2 + ollama:qwen3-coder:30b", "ollama:qwen3-coder:30b"]);
    for (const dataset of data.datasets) {
      data.labels!.forEach((mode, i) => {
        const group = groups.get(`${dataset.label}\u0000${mode}`);
        if (group) expect(dataset.data[i]).toBeCloseTo((group.solved / group.total) * 100, 9);
        else expect(dataset.data[i]).toBeNull();
      });
    }
  });

  it("plots each arm's mean cost per problem against its success rate", async () => {
    const data = await chartData("chart-cost-vs-success");
    const expected = arms().map(({ runId, arm, experiments }) => ({
      label: armLabel(runId, arm),
      x: experiments.reduce((t, e) => t + e.costUsd, 0) / experiments.length,
      y: (experiments.filter((e) => e.success).length / experiments.length) * 100,
    }));
    expect(data.datasets.map((d) => d.label)).toEqual(expected.map((e) => e.label));
    data.datasets.forEach((dataset, i) => {
      const point = dataset.data[0] as { x: number; y: number };
      expect(point.x).toBeCloseTo(expected[i]!.x, 12);
      expect(point.y).toBeCloseTo(expected[i]!.y, 9);
    });
  });

  it("bins every experiment's tokens and iterations into the histograms", async () => {
    for (const [id, value] of [
      ["chart-tokens", (e: ExperimentRecord) => e.inputTokens + e.outputTokens],
      ["chart-iterations", (e: ExperimentRecord) => e.iterations],
    ] as const) {
      const data = await chartData(id);
      // Each label is its bin's lower edge ("7", "1,000"); bins are equally wide.
      const lows = data.labels!.map((label) => Number(label.replace(/,/g, "")));
      const width = lows.length > 1 ? lows[1]! - lows[0]! : 1;
      const ranges = lows.map((low) => [low, low + width - 1] as const);
      arms().forEach(({ runId, arm, experiments }, i) => {
        expect(data.datasets[i]!.label).toBe(armLabel(runId, arm));
        const expected = ranges.map(([low, high]) => experiments.filter((e) => value(e) >= low && value(e) <= high).length);
        expect(data.datasets[i]!.data).toEqual(expected);
        expect(expected.reduce((t, n) => t + n, 0)).toBe(experiments.length);
      });
    }
  });

  it("shows each problem's verdict per run arm in the matrix", async () => {
    const cells = await page.$$eval("#problem-matrix tbody tr", (rows) =>
      rows.flatMap((row) =>
        [...row.querySelectorAll("td.cell")].map((td) => ({
          problem: row.getAttribute("data-problem"),
          column: td.getAttribute("data-column"),
          outcome: td.getAttribute("data-outcome"),
          title: td.getAttribute("title"),
        })),
      ),
    );
    const expected = arms().flatMap(({ runId, arm, experiments }) =>
      experiments.map((e) => ({ problem: e.problemId, column: `${runId}:${arm}`, outcome: e.success ? "pass" : "fail" })),
    );
    expect(cells.map(({ problem, column, outcome }) => ({ problem, column, outcome }))).toEqual(
      expect.arrayContaining(expected),
    );
    expect(cells).toHaveLength(expected.length);
    const hostile = cells.find((c) => c.problem === HOSTILE_PROBLEM && c.column === `${DEEP_RUN}:deep`)!;
    expect(hostile.title).toContain(HOSTILE_TEXT);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("hides the problems all runs agree on when asked", async () => {
    const disagreeing = await page.locator('#problem-matrix tbody tr[data-agree="false"]').count();
    await page.locator("#only-disagreements").check();
    expect(await page.locator("#problem-matrix tbody tr:visible").count()).toBe(disagreeing);
    await page.locator("#only-disagreements").uncheck();
  });

  it("draws the train-meta curves from the metrics log", async () => {
    const episodes = readFileSync(metricsFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; episode: number; return: number; mode: string; cumulativeRegret: number })
      .filter((line) => line.type === "episode");
    expect(episodes).toHaveLength(EPISODES);
    const window = Math.round(EPISODES / 20);

    const returns = await chartData("chart-return");
    // One curve per metrics file: the synthetic training's, then the replay study's.
    expect(returns.datasets).toHaveLength(2);
    expect(returns.datasets[0]!.label).toBe(`${path.basename(metricsFile)} (mean of ${window})`);
    const points = returns.datasets[0]!.data as { x: number; y: number }[];
    expect(points).toHaveLength(EPISODES);
    points.forEach((point, i) => {
      const span = episodes.slice(Math.max(0, i - window + 1), i + 1);
      expect(point.x).toBe(episodes[i]!.episode);
      expect(point.y).toBeCloseTo(span.reduce((t, e) => t + e.return, 0) / span.length, 9);
    });

    const regret = await chartData("chart-regret");
    expect(regret.datasets[0]!.data).toEqual(episodes.map((e) => ({ x: e.episode, y: e.cumulativeRegret })));

    const mix = await chartData("chart-mode-mix-0");
    expect(mix.datasets.map((d) => d.label)).toEqual(["fast", "standard", "deep"]);
    const perBucket = 20; // 300 episodes: 15 buckets of at least 20 episodes
    const first = episodes.slice(0, perBucket);
    mix.datasets.forEach((dataset) => {
      const share = (first.filter((e) => e.mode === dataset.label).length / perBucket) * 100;
      expect((dataset.data[0] as { y: number }).y).toBeCloseTo(share, 9);
    });
    const totals = (mix.datasets[0]!.data as { y: number }[]).map((_, b) => mix.datasets.reduce((t, d) => t + (d.data[b] as { y: number }).y, 0));
    for (const total of totals) expect(total).toBeCloseTo(100, 9);

    expect(await page.locator(".sources").textContent()).toContain("synthetic environment: simulated episodes, not model results");
  });

  it("draws a replay study's quality-cost curve with each controller of its held-out table as a point", async () => {
    const drawn = await chartData("chart-quality-cost-1");
    // The cost-weight sweep as a line, cheapest first, then one point per controller, at its pooled success and cost per task.
    expect(drawn.datasets[0]!.data).toEqual([...CURVE].reverse().map((p) => ({ x: p.costPerTask, y: 100 * p.success, weight: p.costWeight })));
    const table = poolHeldOut([1, 2], [seed(0), seed(10)], "usd");
    expect(drawn.datasets.slice(1).map((d) => d.label)).toEqual(table.rows.map((row) => row.name));
    for (const row of table.rows) {
      const point = drawn.datasets.find((d) => d.label === row.name)!.data[0] as { x: number; y: number };
      expect(point.x).toBeCloseTo(row.costPerTask.mean, 12);
      expect(point.y).toBeCloseTo(100 * row.success.mean, 12);
    }
    expect(pageErrors).toEqual([]);
  });

  it("saves a screenshot for a person to look at", async () => {
    await page.screenshot({ path: "/tmp/koderz-report.png", fullPage: true });
    await page.locator("section.card", { has: page.locator("#runs-table") }).screenshot({ path: "/tmp/koderz-report-runs.png" });
  });
});
