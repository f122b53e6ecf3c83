import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calledModels, runName, runSuite, type ExperimentRecord, type StepRecord, type Store } from "../src/store/index.js";
import type { RunningViewer } from "../src/report/viewer/server.js";
import { collectPageErrors } from "./helpers/browser.js";
import { openViewerInBrowser, showView, type ViewerInBrowser, type ViewerPage } from "./helpers/viewer-in-browser.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN, DEEP_RUN, FRONTIER_MODEL, HOSTILE_TEXT } from "./fixtures/report-fixtures.js";
import { makeExperiment, makeRun, makeSteps } from "./fixtures/store-fixtures.js";

/**
 * `koderz view` as a place to compare, in headless Chromium: the runs list's identity columns,
 * search, filters and sorting; picking runs and the compare page they open (a shareable address,
 * problems side by side, differ-only and failed-only); highlighted code and the changes between
 * a trajectory's attempts; the outline of a long trajectory; and all of it at 800 px wide.
 * What the page shows is checked against the store, never against constants.
 */

const LONG_RUN = "bench_abcdabcd_20250105_100000";
const LONG_LABEL = "kimi-deep-long";
const LONG_PROBLEM = "HumanEval/1";
const IMPORT_RUN = "import_12341234_20250106_100000";
const LONG_STEPS = 12;
/** A repository run's final code: a patch, shown as written rather than highlighted as Python. */
const PATCH = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-def f(): return 1\n+def f(): return 2\n";
/** Code a model might write with markup in it: highlighted, it must still be text. */
const HOSTILE_CODE = `def page():\n    return "${HOSTILE_TEXT.replaceAll('"', "'")}"  # <b>bold?</b>\n`;

let store: Store;
let session: ViewerInBrowser;
let viewer: RunningViewer;
let browser: Browser;
let page: Page;
let pageErrors: string[];
let foreignRequests: string[];
let narrowErrors: string[] = [];

/** The n-th attempt's code: one line changes from each attempt to the next. */
function attemptCode(attempt: number): string {
  return `def solve(xs):\n    """Return the answer."""\n    total = 0\n    for x in xs:\n        total += x * ${attempt}\n    return total\n`;
}

/** A long deep trajectory: Coder, then koderz's test run and a Debugger fix, again and again. */
function longSteps(experimentId: string): StepRecord[] {
  return Array.from({ length: LONG_STEPS }, (_, index) => {
    const isTestRun = index % 2 === 1;
    return {
      experimentId,
      index,
      agent: index === 0 ? "Coder" : isTestRun ? "koderz" : "Debugger",
      action: isTestRun ? "run_tests" : "model",
      model: isTestRun ? undefined : FRONTIER_MODEL,
      prompt: isTestRun ? undefined : `attempt ${index}`,
      response: isTestRun ? undefined : "```python\n" + attemptCode(index) + "```",
      code: isTestRun ? undefined : attemptCode(index),
      testOutput: isTestRun ? `AssertionError after attempt ${index - 1}` : undefined,
      visiblePassFraction: isTestRun ? 0.5 : undefined,
      inputTokens: isTestRun ? 0 : 500,
      outputTokens: isTestRun ? 0 : 120,
      costUsd: isTestRun ? 0 : 0.002,
      latencyMs: 900,
    };
  });
}

function buildStore(target: Store): void {
  buildReportStore(target, 12);
  target.createRun(makeRun({ runId: LONG_RUN, label: LONG_LABEL, mode: "deep", startTime: "2025-01-05T10:00:00.000Z", config: { frontierModel: FRONTIER_MODEL, suite: "humaneval+" } }));
  for (let p = 0; p < 3; p++) {
    const experiment = makeExperiment({ runId: LONG_RUN, arm: "deep", problemId: `HumanEval/${p}`, success: p !== 2, iterations: p === 1 ? 6 : 1 });
    const steps = p === 1 ? longSteps(experiment.experimentId) : makeSteps(experiment.experimentId, 1, FRONTIER_MODEL);
    const finalCode = p === 2 ? HOSTILE_CODE : (steps[steps.length - 2]?.code ?? steps[0]!.code);
    target.recordExperiment({ ...experiment, finalCode }, p === 2 ? [{ ...steps[0]!, code: HOSTILE_CODE }] : steps);
  }
  target.finishRun(LONG_RUN, "interrupted");
  // An import that logged no costs: its cost is unknown, and sorts last.
  target.createRun(makeRun({ runId: IMPORT_RUN, kind: "import", mode: "zero-shot", label: "gpt-import", startTime: "2025-01-06T10:00:00.000Z", config: { suite: "mbpp" }, tags: ["imported", "cost:unknown", "model:openai:gpt-4o"] }));
  for (let p = 0; p < 4; p++) {
    const experiment = makeExperiment({ runId: IMPORT_RUN, arm: "zero-shot", problemId: `HumanEval/${p}`, success: p % 2 === 0 });
    target.recordExperiment(p === 0 ? { ...experiment, finalCode: PATCH } : experiment, []);
  }
  target.finishRun(IMPORT_RUN, "finished");
}

const goTo = (view: ViewerPage, action: () => Promise<unknown>) => showView(page, view, action);

const visibleRunIds = () => page.locator("tr[data-run]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-run")));
const allRuns = () => store.listRuns();
const costOf = (runId: string) => (store.getRun(runId).tags.includes("cost:unknown") ? null : store.armTotals(runId).reduce((t, a) => t + a.costUsd, 0));

beforeAll(async () => {
  session = await openViewerInBrowser(buildStore);
  ({ store, viewer, browser, page, pageErrors, foreignRequests } = session);
});

afterAll(async () => {
  await session?.close();
});

describe("the runs list", () => {
  it("names every run with its label, model(s), suite and status beside its id", async () => {
    for (const run of allRuns()) {
      const row = page.locator(`tr[data-run="${run.runId}"]`);
      const field = (name: string) => row.locator(`[data-field="${name}"]`).textContent();
      expect(await field("name")).toBe(runName(run));
      expect(await field("runId")).toBe(run.runId);
      expect(await field("label")).toBe(run.label ?? "–");
      expect(await field("models")).toBe(calledModels(run).join(", ") || "–");
      expect(await field("suite")).toBe(runSuite(run) ?? "–");
      expect(await field("status")).toBe(run.status);
    }
    // A zero-shot run on the local model is not listed under the frontier model it never called.
    expect(await page.locator(`tr[data-run="${BASELINE_RUN}"] [data-field="models"]`).textContent()).not.toContain(FRONTIER_MODEL);
  });

  it("finds runs by any word of their identity, and filters by status, suite and model", async () => {
    await page.fill("#run-search", "long");
    expect(await visibleRunIds()).toEqual([LONG_RUN]);
    await page.fill("#run-search", "gpt-4o");
    expect(await visibleRunIds()).toEqual([IMPORT_RUN]);
    await page.fill("#run-search", "no-such-run");
    expect(await visibleRunIds()).toEqual([]);
    expect(await page.locator("#runs tbody").textContent()).toContain("No run matches");
    await page.fill("#run-search", "");

    await page.selectOption("#filter-status", "interrupted");
    expect(await visibleRunIds()).toEqual(allRuns().filter((r) => r.status === "interrupted").map((r) => r.runId));
    await page.selectOption("#filter-status", "");
    await page.selectOption("#filter-suite", "mbpp");
    expect(await visibleRunIds()).toEqual([IMPORT_RUN]);
    await page.selectOption("#filter-suite", "");
    await page.selectOption("#filter-model", FRONTIER_MODEL);
    const withFrontier = allRuns().filter((r) => calledModels(r).includes(FRONTIER_MODEL)).map((r) => r.runId);
    expect(withFrontier.length).toBeGreaterThan(1);
    expect((await visibleRunIds()).sort()).toEqual([...withFrontier].sort());
    await page.selectOption("#filter-model", "");
    expect(await page.locator("tr[data-run]").count()).toBe(allRuns().length);
  });

  it("sorts by a column header, both ways, with unknown costs last", async () => {
    const newestFirst = [...allRuns()].sort((a, b) => b.startTime.localeCompare(a.startTime)).map((r) => r.runId);
    expect(await visibleRunIds()).toEqual(newestFirst);

    await page.click('th[data-sort="cost"] button');
    expect(await page.getAttribute('th[data-sort="cost"]', "aria-sort")).toBe("ascending");
    const known = allRuns().filter((r) => costOf(r.runId) !== null);
    const cheapestFirst = [...known].sort((a, b) => costOf(a.runId)! - costOf(b.runId)!).map((r) => r.runId);
    expect(await visibleRunIds()).toEqual([...cheapestFirst, IMPORT_RUN]);
    await page.click('th[data-sort="cost"] button');
    expect(await page.getAttribute('th[data-sort="cost"]', "aria-sort")).toBe("descending");
    expect(await visibleRunIds()).toEqual([...cheapestFirst].reverse().concat(IMPORT_RUN));

    await page.click('th[data-sort="name"] button');
    const byName = [...allRuns()].sort((a, b) => (runName(a).toLowerCase() < runName(b).toLowerCase() ? -1 : 1)).map((r) => r.runId);
    expect(await visibleRunIds()).toEqual(byName);
    await page.click('th[data-sort="started"] button');
    expect(await visibleRunIds()).toEqual(newestFirst);
  });

  it("fits its card at 1280 px: no column cut off at the right", async () => {
    const overflow = await page.locator("#runs").evaluate((table) => table.parentElement!.scrollWidth - table.parentElement!.clientWidth);
    expect(overflow).toBe(0);
    await page.screenshot({ path: "/tmp/koderz-view-runs-1280.png", fullPage: true });
  });
});

describe("the compare page", () => {
  it("opens from two picked runs at an address that names them", async () => {
    expect(await page.isDisabled("#compare-selected")).toBe(true);
    // One comparative run alone: its arms can be compared.
    await page.check(`input[data-select="${COMPARATIVE_RUN}"]`);
    expect([await page.isDisabled("#compare-selected"), await page.textContent("#compare-selected")]).toEqual([false, "Compare its arms"]);
    await page.uncheck(`input[data-select="${COMPARATIVE_RUN}"]`);
    await page.check(`input[data-select="${DEEP_RUN}"]`);
    expect(await page.isDisabled("#compare-selected")).toBe(true);
    await page.check(`input[data-select="${BASELINE_RUN}"]`);
    expect(await page.textContent("#compare-selected")).toBe("Compare 2 runs");
    await goTo("compare", () => page.click("#compare-selected"));
    expect(new URL(page.url()).hash).toBe(`#/compare/${DEEP_RUN},${BASELINE_RUN}`);
    // The run staged baseline comes first, as `koderz compare` orders it.
    const heads = await page.locator("#compare th.column-head .column-name").allTextContents();
    expect(heads).toEqual([BASELINE_RUN, DEEP_RUN].map((id) => runName(store.getRun(id))));
  });

  it("shows each run's verdict per problem, and narrows to the problems they differ on or failed", async () => {
    const sides = [BASELINE_RUN, DEEP_RUN].map((id) => new Map(store.experiments(id).map((e) => [e.problemId, e])));
    const problems = [...sides[0]!.keys()];
    expect(await page.locator("#compare tbody tr[data-problem]").count()).toBe(problems.length);
    for (const problemId of problems) {
      const cells = await page.locator(`#compare tr[data-problem="${problemId}"] [data-field="success"]`).allTextContents();
      expect([problemId, cells]).toEqual([problemId, sides.map((side) => (side.get(problemId)!.success ? "passed" : "failed"))]);
    }
    const visible = () => page.locator("#compare tbody tr[data-problem]:visible").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-problem")));
    const differ = problems.filter((p) => sides[0]!.get(p)!.success !== sides[1]!.get(p)!.success);
    const failed = problems.filter((p) => sides.some((side) => !side.get(p)!.success));
    expect(differ.length).toBeGreaterThan(0);
    expect(differ.length).toBeLessThan(problems.length);
    await page.click('[data-compare-filter="differ"]');
    expect(await visible()).toEqual(differ);
    await page.click('[data-compare-filter="failed"]');
    expect(await visible()).toEqual(failed);
    await page.click('[data-compare-filter="all"]');
    expect(await visible()).toEqual(problems);

    // Wins and losses against the baseline, as `koderz compare` counts them.
    const won = differ.filter((p) => sides[1]!.get(p)!.success).length;
    expect(await page.locator('[data-column="1"] [data-field="pair"]').textContent()).toMatch(new RegExp(`^${won} won · ${differ.length - won} lost · ${problems.length - differ.length} tied`));
  });

  it("opens a problem into each side's verdict and highlighted code, side by side", async () => {
    const problemId = (await page.locator('#compare tr[data-differ="true"]').first().getAttribute("data-problem"))!;
    await page.click(`#compare tr[data-problem="${problemId}"] td.problem-cell`);
    const detail = page.locator(`tr[data-detail-for="${problemId}"]`);
    await detail.locator('.side[data-column="1"] pre[data-field="finalCode"]').waitFor();
    await detail.locator('.side[data-column="0"] pre[data-field="finalCode"]').waitFor();
    const experiments = [BASELINE_RUN, DEEP_RUN].map((id) => store.experiments(id, { problem: problemId })[0]!);
    for (const [i, e] of experiments.entries()) {
      const side = detail.locator(`.side[data-column="${i}"]`);
      expect(await side.locator('[data-field="verdict"]').textContent()).toBe(e.verdict);
      expect(await side.locator('[data-field="finalCode"]').textContent()).toBe(e.finalCode);
      // Highlighted: Python's keywords are marked as such.
      expect(await side.locator("pre.code .hljs-keyword").allTextContents()).toEqual(expect.arrayContaining(["def", "return"]));
    }
    const [left, right] = await Promise.all([0, 1].map((i) => detail.locator(`.side[data-column="${i}"]`).boundingBox()));
    expect(right!.x).toBeGreaterThanOrEqual(left!.x + left!.width);
    expect(Math.abs(right!.y - left!.y)).toBeLessThan(2);
    await page.screenshot({ path: "/tmp/koderz-view-compare.png", fullPage: true });
  });

  it("compares a run's arms, or runs named by label, from a shared address", async () => {
    // A run with several arms links to the comparison of its arms.
    await goTo("run", () => page.evaluate((hash) => (location.hash = hash), `#/runs/${COMPARATIVE_RUN}`));
    await goTo("compare", () => page.click("#compare-arms"));
    expect(new URL(page.url()).hash).toBe(`#/compare/${COMPARATIVE_RUN}`);
    const references = await page.locator("#compare th.column-head .meta").allTextContents();
    expect(references.sort()).toEqual(store.armTotals(COMPARATIVE_RUN).map((a) => `${COMPARATIVE_RUN}:${a.arm}`).sort());
    await goTo("compare", () => page.evaluate((hash) => (location.hash = hash), `#/compare/${LONG_LABEL},${IMPORT_RUN}`));
    expect(await page.locator("#compare th.column-head .meta").allTextContents()).toEqual([LONG_RUN, IMPORT_RUN]);
  });
});

describe("a long trajectory", () => {
  let experiment: ExperimentRecord;
  beforeAll(async () => {
    experiment = store.experiments(LONG_RUN, { problem: LONG_PROBLEM })[0]!;
    await goTo("experiment", () => page.evaluate((hash) => (location.hash = hash), `#/experiments/${encodeURIComponent(experiment.experimentId)}`));
  });

  it("shows each attempt's changes from the attempt before it", async () => {
    const steps = store.steps(experiment.experimentId);
    const withCode = steps.filter((s) => s.code);
    expect(await page.locator('[data-step-index="0"] [data-field="codeDiff"]').count()).toBe(0);
    for (const [n, step] of withCode.slice(1).entries()) {
      const before = withCode[n]!;
      const card = page.locator(`li[data-step-index="${step.index}"]`);
      expect(await card.locator(".change summary").textContent()).toContain(`Changes from step ${before.index + 1}`);
      expect(await card.locator("pre.diff .del").allTextContents()).toEqual([`-         total += x * ${before.index}\n`]);
      expect(await card.locator("pre.diff .add").allTextContents()).toEqual([`+         total += x * ${step.index}\n`]);
      expect(await card.locator('[data-field="diffstat"]').textContent()).toBe("+1 −1");
    }
    // The code itself is highlighted, and still reads as the store's text.
    const first = page.locator('li[data-step-index="0"] pre[data-field="code"]');
    expect(await first.textContent()).toBe(steps[0]!.code);
    expect(await first.locator(".hljs-keyword").count()).toBeGreaterThan(0);
  });

  it("has an outline that jumps to a step", async () => {
    const entries = page.locator("#outline [data-outline-step]");
    expect(await entries.count()).toBe(LONG_STEPS);
    expect(await entries.nth(1).textContent()).toBe("2koderz: run_tests50%");
    const hash = new URL(page.url()).hash;
    const target = 8;
    expect(await page.locator(`li[data-step-index="${target}"]`).evaluate((card) => card.getBoundingClientRect().top > window.innerHeight)).toBe(true);
    await entries.nth(target).click();
    await page.waitForFunction((index) => {
      const card = document.querySelector(`li[data-step-index="${index}"]`)!.getBoundingClientRect();
      return card.top >= 0 && card.top < window.innerHeight / 2;
    }, target);
    // The card is not hidden under the sticky bar, and the page's address did not change.
    const barBottom = await page.locator("header.bar").evaluate((bar) => bar.getBoundingClientRect().bottom);
    const cardTop = await page.locator(`li[data-step-index="${target}"]`).evaluate((card) => card.getBoundingClientRect().top);
    expect(cardTop).toBeGreaterThanOrEqual(barBottom);
    expect(new URL(page.url()).hash).toBe(hash);
    await page.screenshot({ path: "/tmp/koderz-view-long-trajectory.png" });
  });

  it("highlights code with markup in it as text, and runs none of it", async () => {
    const hostile = store.experiments(LONG_RUN, { problem: "HumanEval/2" })[0]!;
    await goTo("experiment", () => page.evaluate((hash) => (location.hash = hash), `#/experiments/${encodeURIComponent(hostile.experimentId)}`));
    const code = page.locator('pre[data-field="finalCode"]');
    expect(await code.textContent()).toBe(HOSTILE_CODE);
    expect(await code.locator(".hljs-string").count()).toBe(1);
    expect(await code.locator(".hljs-comment").textContent()).toBe("# <b>bold?</b>");
    expect(await page.locator("#app script, #app img").count()).toBe(0);
    expect(await page.locator("#app b", { hasText: "bold?" }).count()).toBe(0);
    expect(await code.locator("*:not(span)").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("shows a patch as written, not as highlighted Python", async () => {
    const patched = store.experiments(IMPORT_RUN, { problem: "HumanEval/0" })[0]!;
    await goTo("experiment", () => page.evaluate((hash) => (location.hash = hash), `#/experiments/${encodeURIComponent(patched.experimentId)}`));
    const code = page.locator('pre[data-field="finalCode"]');
    expect(await code.textContent()).toBe(PATCH);
    expect(await code.locator("span").count()).toBe(0);
  });

  it("shows no outline on a short trajectory", async () => {
    const short = store.experiments(LONG_RUN, { problem: "HumanEval/0" })[0]!;
    await goTo("experiment", () => page.evaluate((hash) => (location.hash = hash), `#/experiments/${encodeURIComponent(short.experimentId)}`));
    expect(await page.locator("#outline").count()).toBe(0);
  });
});

describe("at 800 px wide", () => {
  let narrow: Page;
  beforeAll(async () => {
    narrow = await browser.newPage({ viewport: { width: 800, height: 900 } });
    narrowErrors = collectPageErrors(narrow);
  });
  afterAll(async () => {
    await narrow?.close();
  });

  /** Nothing scrolls sideways: not the page, not a table inside its card; and these columns are on screen. */
  async function expectNothingClipped(name: string, keyColumns: string[]): Promise<void> {
    await narrow.screenshot({ path: `/tmp/koderz-view-${name}-800.png`, fullPage: true });
    const overflow = await narrow.evaluate(() => ({
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      tables: Array.from(document.querySelectorAll(".table-card")).map((card) => card.scrollWidth - card.clientWidth),
    }));
    expect([name, overflow.page]).toEqual([name, 0]);
    expect([name, overflow.tables.filter((extra) => extra > 0)]).toEqual([name, []]);
    for (const selector of keyColumns) {
      const box = await narrow.locator(selector).first().boundingBox();
      expect([name, selector, box !== null && box.width > 0 && box.x >= 0 && box.x + box.width <= 800]).toEqual([name, selector, true]);
    }
  }

  async function open(hash: string, view: string): Promise<void> {
    await narrow.goto(`${viewer.url}${hash}`);
    await narrow.waitForSelector(`#app[data-view="${view}"]`);
  }

  it("shows the runs list's identity columns without clipping", async () => {
    await open("", "runs");
    await expectNothingClipped("runs", ['th[data-sort="name"]', 'th[data-sort="models"]', 'th[data-sort="suite"]', 'th[data-sort="status"]', 'th[data-sort="success"]', 'th[data-sort="cost"]', "#compare-selected", "#run-search"]);
  });

  it("shows the compare page and an opened problem without clipping", async () => {
    await open(`#/compare/${BASELINE_RUN},${COMPARATIVE_RUN}`, "compare");
    expect(await narrow.locator("#compare th.column-head").count()).toBe(3);
    const problemId = (await narrow.locator("#compare tbody tr[data-problem]").first().getAttribute("data-problem"))!;
    await narrow.click(`#compare tr[data-problem="${problemId}"] td.problem-cell`);
    await narrow.locator(`tr[data-detail-for="${problemId}"] pre[data-field="finalCode"]`).first().waitFor();
    await expectNothingClipped("compare", ['#compare th.column-head[data-column="2"]', '[data-compare-filter="failed"]', `tr[data-detail-for="${problemId}"] .side[data-column="1"]`]);
  });

  it("shows a run and a long trajectory without clipping", async () => {
    await open(`#/runs/${COMPARATIVE_RUN}`, "run");
    await expectNothingClipped("run", ['#problems th:has-text("result")', '#problems th:has-text("verdict")', '[data-arm-filter="zero-shot"]']);
    const experiment = store.experiments(LONG_RUN, { problem: LONG_PROBLEM })[0]!;
    await open(`#/experiments/${encodeURIComponent(experiment.experimentId)}`, "experiment");
    await expectNothingClipped("experiment", ["#outline", `li[data-step-index="2"] pre.diff`]);
  });
});

describe("the page's own conduct", () => {
  it("made no request outside the viewer and threw no script error", () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(narrowErrors).toEqual([]);
  });

  // Last: the browser logs the API's 404 as a console error.
  it("explains an address naming a run that does not exist", async () => {
    await goTo("error", () => page.evaluate(() => (location.hash = "#/compare/bench_00000000_20000101_000000,x")));
    expect(await page.locator(".error").textContent()).toContain("no run with id bench_00000000_20000101_000000");
  });
});
