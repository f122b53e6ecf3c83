import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runName, type Store } from "../src/store/index.js";
import { openViewerInBrowser, showView, type ViewerInBrowser, type ViewerPage } from "./helpers/viewer-in-browser.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN, DEEP_RUN, HOSTILE_PROBLEM, HOSTILE_TEXT } from "./fixtures/report-fixtures.js";
import { makeExperiment, makeRun, makeSteps } from "./fixtures/store-fixtures.js";

/**
 * `koderz view` end to end in headless Chromium: runs → a run → a problem → its steps, every
 * number and text on screen compared with the store. The viewer has its own connection to the
 * store, as it has when a benchmark writes in another process.
 */

let store: Store;
let session: ViewerInBrowser;
let page: Page;
let pageErrors: string[];
let foreignRequests: string[];

const count = (n: number) => n.toLocaleString("en-US");
const dollars = (d: number) => `$${d.toFixed(4)}`;

const goTo = (view: ViewerPage, action: () => Promise<unknown>) => showView(page, view, action);

beforeAll(async () => {
  session = await openViewerInBrowser(buildReportStore);
  ({ store, page, pageErrors, foreignRequests } = session);
});

afterAll(async () => {
  await session?.close();
});

describe("koderz view in Chromium", () => {
  it("lists the runs, newest first, with the store's problems, success, tokens and cost", async () => {
    const ids = await page.$$eval("tr[data-run]", (rows) => rows.map((row) => row.getAttribute("data-run")));
    expect(ids).toEqual([DEEP_RUN, COMPARATIVE_RUN, BASELINE_RUN]);
    for (const runId of ids as string[]) {
      const row = page.locator(`tr[data-run="${runId}"]`);
      const arms = store.armTotals(runId);
      expect(await row.locator('[data-field="problems"]').textContent()).toBe(String(Math.max(...arms.map((a) => a.experiments))));
      const rates = await row.locator('[data-field="successRate"]').allTextContents();
      expect(rates).toEqual(arms.map((a) => `${((a.successes / a.experiments) * 100).toFixed(1)}%`));
      const input = arms.reduce((t, a) => t + a.inputTokens, 0);
      const output = arms.reduce((t, a) => t + a.outputTokens, 0);
      expect(await row.locator('[data-field="tokens"]').textContent()).toBe(`${count(input)} / ${count(output)}`);
      expect(await row.locator('[data-field="costUsd"]').textContent()).toBe(dollars(arms.reduce((t, a) => t + a.costUsd, 0)));
    }
    await page.screenshot({ path: "/tmp/koderz-view-runs.png", fullPage: true });
  });

  it("opens a run and shows each problem's verdict, iterations, tokens and cost", async () => {
    await goTo("run", () => page.locator(`a[href="#/runs/${COMPARATIVE_RUN}"]`).click());
    // Named as everywhere else: its label, else "model · mode · suite", with its id beside it.
    expect(await page.locator("h1").textContent()).toBe(runName(store.getRun(COMPARATIVE_RUN)));
    expect(await page.locator('.sub [data-field="runId"]').textContent()).toBe(COMPARATIVE_RUN);
    const experiments = store.experiments(COMPARATIVE_RUN);
    expect(await page.locator("#problems tbody tr").count()).toBe(experiments.length);
    for (const e of experiments) {
      const row = page.locator(`tr[data-experiment="${e.experimentId}"]`);
      expect(await row.getAttribute("data-problem")).toBe(e.problemId);
      expect(await row.getAttribute("data-arm")).toBe(e.arm);
      expect(await row.locator('[data-field="success"]').textContent()).toBe(e.success ? "passed" : "failed");
      expect(await row.locator('[data-field="iterations"]').textContent()).toBe(String(e.iterations));
      expect(await row.locator('[data-field="tokens"]').textContent()).toBe(`${count(e.inputTokens)} / ${count(e.outputTokens)}`);
      expect(await row.locator('[data-field="costUsd"]').textContent()).toBe(dollars(e.costUsd));
      expect(await row.locator('[data-field="verdict"]').textContent()).toBe(e.verdict);
    }
    for (const arm of store.armTotals(COMPARATIVE_RUN)) {
      expect(await page.locator(`.arm-card[data-arm="${arm.arm}"] [data-field="successRate"]`).textContent()).toBe(
        `${((arm.successes / arm.experiments) * 100).toFixed(1)}%`,
      );
    }
    await page.screenshot({ path: "/tmp/koderz-view-run.png", fullPage: true });

    await page.locator('[data-arm-filter="zero-shot"]').click();
    const visible = await page.locator("#problems tbody tr:visible").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-arm")));
    expect(visible).toEqual(experiments.filter((e) => e.arm === "zero-shot").map(() => "zero-shot"));
    // Failed only, within the arm picked.
    await page.locator('[data-result-filter="failed"]').click();
    const failed = await page.locator("#problems tbody tr:visible").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-experiment")));
    expect(failed).toEqual(experiments.filter((e) => e.arm === "zero-shot" && !e.success).map((e) => e.experimentId));
    expect(failed.length).toBeGreaterThan(0);
    await page.locator('[data-result-filter="all"]').click();
  });

  it("walks a problem's trajectory step by step, with the store's texts and numbers", async () => {
    await goTo("run", () => page.locator("#crumbs a", { hasText: "Runs" }).click().then(() => page.waitForSelector('#app[data-view="runs"]')).then(() => page.locator(`a[href="#/runs/${DEEP_RUN}"]`).click()));
    const experiment = store.experiments(DEEP_RUN, { problem: HOSTILE_PROBLEM })[0]!;
    await goTo("experiment", () => page.locator(`tr[data-experiment="${experiment.experimentId}"] a`).click());

    expect(await page.locator("h1").textContent()).toBe(HOSTILE_PROBLEM);
    expect(await page.locator('.stats [data-field="tokens"]').textContent()).toBe(`${count(experiment.inputTokens)} / ${count(experiment.outputTokens)}`);
    expect(await page.locator('.stats [data-field="costUsd"]').textContent()).toBe(dollars(experiment.costUsd));
    expect(await page.locator('pre[data-field="verdict"]').textContent()).toBe(experiment.verdict);
    expect(await page.locator('pre[data-field="finalCode"]').textContent()).toBe(experiment.finalCode);

    const steps = store.steps(experiment.experimentId);
    expect(steps.length).toBeGreaterThan(0);
    expect(await page.locator("li[data-step-index]").count()).toBe(steps.length);
    for (const step of steps) {
      const card = page.locator(`li[data-step-index="${step.index}"]`);
      const field = (name: string) => card.locator(`[data-field="${name}"]`).textContent();
      expect(await field("agent")).toBe(step.agent);
      expect(await field("model")).toBe(step.model);
      // Collapsed sections still hold their text: textContent reads it either way.
      expect(await field("prompt")).toBe(step.prompt);
      expect(await field("response")).toBe(step.response);
      expect(await field("code")).toBe(step.code);
      expect(await field("testOutput")).toBe(step.testOutput);
      expect(await field("visiblePassFraction")).toBe(`${Math.round(step.visiblePassFraction! * 100)}%`);
      expect(await field("inputTokens")).toBe(count(step.inputTokens));
      expect(await field("outputTokens")).toBe(count(step.outputTokens));
      expect(await field("costUsd")).toBe(dollars(step.costUsd));
      expect(await field("latencyMs")).toBe(`${(step.latencyMs / 1000).toFixed(2)} s`);
    }
    await page.screenshot({ path: "/tmp/koderz-view-experiment.png", fullPage: true });
  });

  it("shows model text with markup as text and never runs it", async () => {
    const last = page.locator("li[data-step-index]").last();
    expect(await last.locator('[data-field="response"]').textContent()).toBe(`Sure. ${HOSTILE_TEXT}`);
    expect(await last.locator('[data-field="testOutput"]').textContent()).toBe(`Traceback: ${HOSTILE_TEXT}`);
    expect(await page.locator("#app script, #app img").count()).toBe(0);
    expect(await page.locator("#app b", { hasText: "bold?" }).count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("sees a run committed while the viewer is open", async () => {
    const fresh = "bench_feedbeef_20250104_090000";
    store.createRun(makeRun({ runId: fresh, mode: "fast", startTime: "2025-01-04T09:00:00.000Z" }));
    const e = makeExperiment({ runId: fresh, arm: "fast", problemId: "HumanEval/0", success: true, inputTokens: 1234, outputTokens: 56, costUsd: 0.0789 });
    store.recordExperiment(e, makeSteps(e.experimentId, 2));
    await goTo("runs", () => page.locator("#crumbs a", { hasText: "Runs" }).click());
    expect(await page.locator("tr[data-run]").first().getAttribute("data-run")).toBe(fresh);
    await goTo("run", () => page.locator(`a[href="#/runs/${fresh}"]`).click());
    expect(await page.locator(`tr[data-experiment="${e.experimentId}"] [data-field="tokens"]`).textContent()).toBe("1,234 / 56");
  });

  it("made no request outside the viewer and threw no script error", () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("explains an unknown run instead of showing an empty page", async () => {
    await goTo("error", () => page.evaluate(() => (location.hash = "#/runs/bench_00000000_20000101_000000")));
    expect(await page.locator(".error").textContent()).toContain("no run with id bench_00000000_20000101_000000");
  });
});
