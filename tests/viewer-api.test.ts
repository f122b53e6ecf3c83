import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/index.js";
import { startViewer, type RunningViewer } from "../src/report/viewer/server.js";
import { compareRuns } from "../src/report/compare.js";
import type { CompareResponse, ExperimentResponse, RunResponse, RunsResponse } from "../src/report/viewer/viewer-api.js";
import { runReportCli } from "./fixtures/report-cli.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN } from "./fixtures/report-fixtures.js";
import { makeRun, recordArm, tempStore } from "./fixtures/store-fixtures.js";

let store: Store;
let viewerStore: Store;
let dbPath: string;
let dir: string;
let cleanup: () => void;
let viewer: RunningViewer;

beforeEach(async () => {
  ({ store, dbPath, dir, cleanup } = tempStore());
  buildReportStore(store);
  viewerStore = openStore({ path: dbPath, mustExist: true });
  viewer = await startViewer({ store: viewerStore, host: "127.0.0.1", port: 0 });
});
afterEach(async () => {
  await viewer.close();
  viewerStore.close();
  cleanup();
});

/** Every key of a JSON value, at any depth (a run's free-form config aside). */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...(key === "config" ? [] : keysOf(inner))]);
}

/** The values of every key that names a share (successRate, visiblePassFraction, ...), at any depth. */
function sharesOf(value: unknown): (number | null)[] {
  if (Array.isArray(value)) return value.flatMap(sharesOf);
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => (/(Rate|Fraction)$/.test(key) ? [inner as number | null] : key === "config" ? [] : sharesOf(inner)));
}

async function get<T>(pathAndQuery: string): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(pathAndQuery, viewer.url));
  return { status: response.status, body: (await response.json()) as T };
}

describe("the viewer's JSON API", () => {
  it("serves runs, a run's experiments filtered by arm, and an experiment's steps from the store", async () => {
    const runs = await get<RunsResponse>("/api/runs");
    expect(runs.body.runs.map((r) => r.runId)).toEqual(store.listRuns().map((r) => r.runId));

    const run = await get<RunResponse>(`/api/runs/${COMPARATIVE_RUN}?arm=zero-shot`);
    expect(run.body.experiments.map((e) => e.experimentId)).toEqual(store.experiments(COMPARATIVE_RUN, { arm: "zero-shot" }).map((e) => e.experimentId));
    expect(run.body.run.arms.map((a) => a.arm)).toEqual(["iterative", "zero-shot"]);

    const experimentId = run.body.experiments[0]!.experimentId;
    const experiment = await get<ExperimentResponse>(`/api/experiments/${encodeURIComponent(experimentId)}`);
    const steps = store.steps(experimentId);
    expect(steps.length).toBeGreaterThan(0);
    expect(experiment.body.steps).toEqual(
      steps.map((s) => ({
        index: s.index,
        agent: s.agent,
        action: s.action,
        model: s.model ?? null,
        prompt: s.prompt ?? null,
        response: s.response ?? null,
        code: s.code ?? null,
        testOutput: s.testOutput ?? null,
        visiblePassFraction: s.visiblePassFraction ?? null,
        inputTokens: s.inputTokens,
        outputTokens: s.outputTokens,
        costUsd: s.costUsd,
        latencyMs: s.latencyMs,
      })),
    );
  });

  it("answers in the JSON contract: schemaVersion 1, camelCase, shares as fractions, unknown costs null", async () => {
    const imported = "import_0f0f0f0f_20250110_100000";
    store.createRun(makeRun({ runId: imported, kind: "import", mode: "zero-shot", config: {}, tags: ["imported", "cost:unknown"] }));
    recordArm(store, imported, "zero-shot", [true, false]);
    const experimentId = store.experiments(imported)[0]!.experimentId;
    const documents = await Promise.all(
      ["/api/runs", `/api/runs/${COMPARATIVE_RUN}`, `/api/runs/${imported}`, `/api/experiments/${encodeURIComponent(experimentId)}`, `/api/compare?runs=${BASELINE_RUN},${imported}`, "/api/runs/nope"].map((route) =>
        get<Record<string, unknown>>(route),
      ),
    );
    for (const { body } of documents) {
      expect(body.schemaVersion).toBe(1);
      expect(keysOf(body).filter((key) => key.includes("_"))).toEqual([]);
      // Every share (a rate, a fraction) is a fraction in [0, 1], or null when unknown.
      const shares = sharesOf(body);
      expect(shares.filter((share) => share !== null && (share < 0 || share > 1))).toEqual([]);
    }
    expect(sharesOf(documents[1]!.body).filter((share) => share !== null && share > 0 && share < 1).length).toBeGreaterThan(0);
    const [runs, comparative, importedRun, importedExperiment, compare] = documents.map((d) => d.body) as unknown as [RunsResponse, RunResponse, RunResponse, ExperimentResponse, CompareResponse];
    for (const arm of comparative.run.arms) expect(arm.successRate).toBe(arm.successes / arm.experiments);
    expect(runs.runs.find((r) => r.runId === imported)).toMatchObject({ costUsd: null, inputTokens: 100 * 2 });
    expect(importedRun.experiments.map((e) => e.costUsd)).toEqual([null, null]);
    expect(importedExperiment.steps.map((s) => s.costUsd)).toEqual([null]);
    expect(compare.columns.map((c) => [c.runId, c.costUsd === null])).toEqual([
      [BASELINE_RUN, false],
      [imported, true],
    ]);
  });

  it("compares runs problem by problem with `koderz compare`'s figures, a column per arm of a comparative run", async () => {
    const { body, status } = await get<CompareResponse>(`/api/compare?runs=${COMPARATIVE_RUN},${BASELINE_RUN}`);
    expect(status).toBe(200);
    const expected = compareRuns(store, [BASELINE_RUN, `${COMPARATIVE_RUN}:iterative`, `${COMPARATIVE_RUN}:zero-shot`], { bootstrap: {} });
    // The run staged baseline first, then the comparative run's arms.
    expect(body.columns.map((c) => c.reference)).toEqual([BASELINE_RUN, `${COMPARATIVE_RUN}:iterative`, `${COMPARATIVE_RUN}:zero-shot`]);
    expect(body.columns.map(({ reference: _, ...run }) => run)).toEqual(expected.runs);
    expect(body.pairs).toEqual(expected.pairs);
    const experiments = body.columns.map((c) => new Map(store.experiments(c.runId, { arm: c.arm }).map((e) => [e.problemId, e])));
    expect(body.rows.map((r) => r.problemId)).toEqual(expected.sharedProblems);
    for (const row of body.rows) {
      const outcomes = experiments.map((side) => side.get(row.problemId)!.success);
      expect(row.results.map((cell) => cell!.success)).toEqual(outcomes);
      expect(row.results.map((cell) => cell!.experimentId)).toEqual(experiments.map((side) => side.get(row.problemId)!.experimentId));
      expect(row.differ).toBe(new Set(outcomes).size > 1);
      expect(row.failed).toBe(outcomes.includes(false));
    }
  });

  it("shows a problem only one run attempted as missing on the other side, and refuses a bad comparison", async () => {
    const partial = "bench_0a0a0a0a_20250111_100000";
    store.createRun(makeRun({ runId: partial, label: "partial-run" }));
    recordArm(store, partial, "iterative", [true, true], 30);
    recordArm(store, partial, "iterative", [false], 0);
    const { body } = await get<CompareResponse>(`/api/compare?runs=${BASELINE_RUN},partial-run`);
    expect(body.sharedProblems).toBe(1);
    const extra = body.rows.find((r) => r.problemId === "HumanEval/30")!;
    expect(extra.results[0]).toBeNull();
    expect(extra.results[1]!.success).toBe(true);
    expect(extra).toMatchObject({ differ: true, failed: false });
    expect(body.note).toContain("left out");

    expect((await get("/api/compare")).status).toBe(400);
    expect((await get("/api/compare?runs=,")).status).toBe(400);
    expect((await get(`/api/compare?runs=${BASELINE_RUN}&sort=x`)).status).toBe(400);
    expect((await get(`/api/compare?runs=${Array(13).fill(BASELINE_RUN).join(",")}`)).status).toBe(400);
    const unknown = await get<{ error: { message: string } }>(`/api/compare?runs=${BASELINE_RUN},bench_00000000_20000101_000000`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain("bench_00000000_20000101_000000");
    expect((await get(`/api/compare?runs=${BASELINE_RUN}:no-such-arm`)).status).toBe(404);
  });

  it("names each run (label, else model · mode · suite) with the models it called, and opens a run by its label", async () => {
    const runs = await get<RunsResponse>("/api/runs");
    const baseline = runs.body.runs.find((r) => r.runId === BASELINE_RUN)!;
    expect(baseline.models).toEqual(["ollama:qwen3-coder:30b"]);
    expect(baseline.name).toBe(["ollama:qwen3-coder:30b", baseline.mode, baseline.suite].filter(Boolean).join(" · "));
    store.createRun(makeRun({ runId: "bench_1abe1abe_20250109_100000", label: "my-label" }));
    const byLabel = await get<RunResponse>("/api/runs/my-label");
    expect(byLabel.status).toBe(200);
    expect(byLabel.body.run).toMatchObject({ runId: "bench_1abe1abe_20250109_100000", name: "my-label", label: "my-label" });
  });

  it("answers unknown ids with 404 and a hint, and unknown query parameters with 400", async () => {
    const missing = await get<{ error: { code: string; message: string; hint: string } }>("/api/runs/bench_00000000_20000101_000000");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(missing.body.error.hint).toContain("koderz results list");
    expect((await get(`/api/runs/${BASELINE_RUN}?limit=3`)).status).toBe(400);
    expect((await get("/api/experiments/nope")).status).toBe(404);
    expect((await get("/api/elsewhere")).status).toBe(404);
  });

  it("only reads: other methods get 405", async () => {
    const response = await fetch(new URL("/api/runs", viewer.url), { method: "DELETE" });
    expect(response.status).toBe(405);
  });

  it("serves the page with a policy that allows only its own scripts, and the two libraries it uses", async () => {
    const response = await fetch(viewer.url);
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await response.text();
    for (const script of ["/vendor/highlight.js", "/vendor/diff.js", "/app.js"]) {
      expect(html).toContain(`<script src="${script}"></script>`);
      const served = await fetch(new URL(script, viewer.url));
      expect([script, served.status, served.headers.get("content-type")]).toEqual([script, 200, "text/javascript; charset=utf-8"]);
    }
  });

  it("refuses requests for another host name (DNS rebinding)", async () => {
    const { port } = new URL(viewer.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/runs", headers: { Host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe("koderz view", () => {
  it("prints its URL on stderr, serves the store, and stops on Ctrl-C", async () => {
    let announced: (url: string) => void;
    const url = new Promise<string>((resolve) => (announced = resolve));
    const running = runReportCli(["view", "--port", "0", "--db", dbPath], (stderr) => {
      const match = /koderz view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
      if (match) announced(match[1]!);
    });
    const body = (await (await fetch(new URL("/api/runs", await url))).json()) as RunsResponse;
    expect(body.runs).toHaveLength(3);
    process.emit("SIGINT");
    const result = await running;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("koderz view: stopped");
  });

  it("rejects a bad port and a missing store", async () => {
    expect((await runReportCli(["view", "--port", "http", "--db", dbPath])).exitCode).toBe(2);
    const missing = await runReportCli(["view", "--port", "0", "--db", `${dir}/none.db`]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no koderz store");
  });

  it("says when the port is taken", async () => {
    const { port } = new URL(viewer.url);
    const result = await runReportCli(["view", "--port", port, "--db", dbPath]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("already in use");
  });
});
