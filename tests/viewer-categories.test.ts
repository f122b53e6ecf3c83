import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store, type StoredCriterion } from "../src/store/index.js";
import { startViewer, type RunningViewer } from "../src/report/viewer/server.js";
import type { ExperimentResponse, RunResponse } from "../src/report/viewer/viewer-api.js";
import { collectPageErrors, launchChromium } from "./helpers/browser.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";

// `koderz view` per category: a suite run's totals per category, its problems filtered by category
// (in the JSON API and on the page, in Chromium), and a tool-trace case's checks on its page.

const RUN = "bench_0000cafe_20260101_120000";
const CRITERIA: StoredCriterion[] = [
  { name: "`python3 -m pytest -q` exits 0", weight: 3, by: "end-state", value: 1, detail: "exit 0" },
  { name: 'edit with "tests/" never called', weight: 1, by: "trace", value: 0, detail: "1 call" },
];
const CASES = [
  { problemId: "mixed/fix-failing-test", category: "agentic", tier: "T1", success: false, score: 4, costUsd: 0.02, scoreCriteria: CRITERIA },
  { problemId: "mixed/rename-everywhere", category: "agentic", tier: "T2", success: true, score: 5, costUsd: 0.04 },
  { problemId: "mixed/ten-small-bugs", category: "stress", tier: "T3", success: true, score: 5, costUsd: 0.1 },
  { problemId: "mixed/knights-and-knaves", category: "reasoning", tier: "T1", success: true, costUsd: 0.01 },
];

let store: Store;
let viewerStore: Store;
let cleanup: () => void;
let viewer: RunningViewer;

beforeAll(async () => {
  let dbPath: string;
  ({ store, cleanup, dbPath } = tempStore());
  store.createRun(makeRun({ runId: RUN, mode: "fast", tags: ["benchmark_run", "suite:mixed"] }));
  for (const c of CASES) {
    const experiment = { ...makeExperiment({ runId: RUN, arm: "fast", problemId: c.problemId, success: c.success, costUsd: c.costUsd }), category: c.category, suite: "mixed", tier: c.tier, score: c.score, scoreCriteria: c.scoreCriteria };
    store.recordExperiment(experiment, makeSteps(experiment.experimentId, 1));
  }
  viewerStore = openStore({ path: dbPath, mustExist: true });
  viewer = await startViewer({ store: viewerStore, host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await viewer?.close();
  viewerStore?.close();
  cleanup?.();
});

async function get<T>(pathAndQuery: string): Promise<T> {
  const response = await fetch(new URL(pathAndQuery, viewer.url));
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

describe("the viewer's API per category", () => {
  it("totals each category of a run, and filters its problems by category", async () => {
    const run = await get<RunResponse>(`/api/runs/${RUN}`);
    expect(run.categories).toEqual([
      { category: "agentic", experiments: 2, successes: 1, successRate: 0.5, meanScore: 4.5, costUsd: expect.closeTo(0.06, 10) },
      { category: "reasoning", experiments: 1, successes: 1, successRate: 1, meanScore: null, costUsd: expect.closeTo(0.01, 10) },
      { category: "stress", experiments: 1, successes: 1, successRate: 1, meanScore: 5, costUsd: expect.closeTo(0.1, 10) },
    ]);
    const agentic = await get<RunResponse>(`/api/runs/${RUN}?category=agentic`);
    expect(agentic.experiments.map((e) => [e.problemId, e.category, e.tier, e.score])).toEqual([
      ["mixed/fix-failing-test", "agentic", "T1", 4],
      ["mixed/rename-everywhere", "agentic", "T2", 5],
    ]);
    // The totals stay the run's whatever the filter.
    expect(agentic.categories).toEqual(run.categories);
  });

  it("gives an experiment's checks with what decided each", async () => {
    const id = store.experiments(RUN).find((e) => e.problemId === "mixed/fix-failing-test")!.experimentId;
    const experiment = await get<ExperimentResponse>(`/api/experiments/${encodeURIComponent(id)}`);
    expect(experiment.experiment.criteria).toEqual(CRITERIA);
  });
});

describe("koderz view per category in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    pageErrors = collectPageErrors(page);
    await page.goto(`${viewer.url}#/runs/${RUN}`);
    await page.waitForSelector('#app[data-view="run"]');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("shows a card per category and narrows the problems to the category picked", async () => {
    const cards = await page.$$eval("#categories [data-category]", (nodes) => nodes.map((n) => [n.getAttribute("data-category"), n.querySelector('[data-field="successRate"]')!.textContent]));
    expect(cards).toEqual([
      ["agentic", "50.0%"],
      ["reasoning", "100.0%"],
      ["stress", "100.0%"],
    ]);
    expect(await page.locator('#categories [data-category="agentic"]').textContent()).toContain("1 / 2 solved · mean score 4.50/5");
    await page.click('button[data-category-filter="agentic"]');
    const visible = await page.$$eval("#problems tbody tr", (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => r.getAttribute("data-problem")));
    expect(visible.sort()).toEqual(["mixed/fix-failing-test", "mixed/rename-everywhere"]);
    await page.click('button[data-category-filter="all"]');
    expect(await page.$$eval("#problems tbody tr", (rows) => rows.filter((r) => !(r as HTMLElement).hidden).length)).toBe(4);
  });

  it("lists a tool-trace case's checks on its page, the one not met with why", async () => {
    await page.click('tr[data-problem="mixed/fix-failing-test"] a');
    await page.waitForSelector('#app[data-view="experiment"]');
    const rows = await page.$$eval("tr[data-criterion]", (nodes) => nodes.map((n) => [n.getAttribute("data-criterion"), n.querySelector('[data-field="value"]')!.textContent, n.lastElementChild!.textContent]));
    expect(rows).toEqual([
      [CRITERIA[0]!.name, "1.00", "exit 0"],
      [CRITERIA[1]!.name, "0.00", "1 call"],
    ]);
    expect(pageErrors).toEqual([]);
  });
});
