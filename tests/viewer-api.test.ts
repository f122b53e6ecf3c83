import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/index.js";
import { startViewer, type RunningViewer } from "../src/report/viewer/server.js";
import type { ExperimentResponse, RunResponse, RunsResponse } from "../src/report/viewer/viewer-api.js";
import { runReportCli } from "./fixtures/report-cli.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN } from "./fixtures/report-fixtures.js";
import { makeRun, tempStore } from "./fixtures/store-fixtures.js";

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
    expect(experiment.body.steps).toEqual(store.steps(experimentId));
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

  it("serves the page with a policy that allows only its own script", async () => {
    const response = await fetch(viewer.url);
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await response.text()).toContain('<script src="/app.js"></script>');
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
