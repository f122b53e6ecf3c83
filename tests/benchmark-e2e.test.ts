import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { openStore, type ComparativeRunSummary } from "../src/store/index.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz, spawnKoderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import {
  benchmarkRunIdFrom as runIdFrom,
  comparativeRunSummary,
  expectNoHiddenTestShown,
  findBenchmarkRunId,
  startTeamWorkDir,
  TEAM_ENV as env,
} from "./fixtures/team-workdir.js";

// `koderz benchmark 0 5 --mode comparative` end to end: the real binary, the real openai and
// ollama clients over HTTP to a scripted server, the Docker sandbox, the SQLite store.
// The script makes the Coder's first attempt wrong on two problems; the Debugger fixes them.
const WRONG_FIRST = new Set(["HumanEval/1", "HumanEval/3"]);

let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;

beforeAll(async () => {
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 5);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: WRONG_FIRST, tempPrefix: "koderz-bench-" }));
});

afterAll(async () => {
  await server?.close();
});

function summaryOf(runId: string): ComparativeRunSummary {
  return comparativeRunSummary(workDir, runId);
}

/** What must match between two runs of the same work: everything but ids and clocks. */
function outcomes(summary: ComparativeRunSummary) {
  const strip = (arm: ComparativeRunSummary["zeroShot"]) =>
    arm.results.map(({ problemId, success, iterations, costUsd, inputTokens, outputTokens }) => ({ problemId, success, iterations, costUsd, inputTokens, outputTokens }));
  const { wallSecondsDifference: _clock, ...comparison } = summary.comparison;
  return { zeroShot: strip(summary.zeroShot), iterative: strip(summary.iterative), comparison };
}

describe("koderz benchmark 0 5 --mode comparative", () => {
  let firstRunId: string;

  it("scores both arms, writes the summary JSON and the database rows", async () => {
    const result = await koderz(["benchmark", "0", "5", "--mode", "comparative"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    firstRunId = runIdFrom(result.stderr);
    const summary = summaryOf(firstRunId);

    expect(summary.config.problems).toEqual(tasks.map((t) => t.id));
    expect(summary.zeroShot.summary.totalProblems).toBe(5);
    expect(summary.zeroShot.summary.successes).toBe(5 - WRONG_FIRST.size);
    expect(summary.iterative.summary.successes).toBe(5);
    expect(summary.comparison.successRateDifference).toBeCloseTo(WRONG_FIRST.size / 5);
    for (const row of summary.iterative.results) expect(row.iterations).toBe(WRONG_FIRST.has(row.problemId) ? 2 : 1);
    expect(result.stdout).toContain("zero-shot");
    expect(result.stdout).toContain("iterative");

    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      const experiments = store.experiments(firstRunId);
      expect(experiments).toHaveLength(10);
      const fixed = experiments.find((e) => e.arm === "iterative" && e.problemId === "HumanEval/1")!;
      const steps = store.steps(fixed.experimentId);
      expect(steps.map((s) => s.agent)).toEqual(["Planner", "Coder", "Debugger"]);
      expect(steps[1]!.visiblePassFraction).toBeLessThan(1);
      expect(steps[2]!.visiblePassFraction).toBe(1);
      expect(steps[0]!.model).toBe("kimi-k2");
      expect(steps[1]!.model).toBe("ollama:qwen3-coder:30b");
      // Every model call is logged, and their tokens add up to the experiments' tokens.
      const calls = store.modelCalls({ runId: firstRunId });
      expect(calls).toHaveLength(server.chatRequests.length);
      const stepTokens = experiments.reduce((n, e) => n + e.inputTokens + e.outputTokens, 0);
      expect(calls.reduce((n, c) => n + c.inputTokens + c.outputTokens, 0)).toBe(stepTokens);
    } finally {
      store.close();
    }
  });

  it("never shows a hidden test to a model", () => {
    expectNoHiddenTestShown(server, tasks);
  });

  it("replays a recorded run with zero model calls and the same verdicts", async () => {
    const before = server.chatRequests.length;
    const result = await koderz(["benchmark", "--replay", firstRunId], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.chatRequests.length).toBe(before);
    const replayed = summaryOf(runIdFrom(result.stderr));
    const original = summaryOf(firstRunId);
    expect(replayed.zeroShot.results.map((r) => r.success)).toEqual(original.zeroShot.results.map((r) => r.success));
    expect(replayed.iterative.results.map((r) => [r.success, r.iterations])).toEqual(original.iterative.results.map((r) => [r.success, r.iterations]));
  });

  it("resumes a run killed with SIGKILL and ends with the same summary as an uninterrupted run", async () => {
    server.setScript(codingTeamScript(tasks, { wrongFirst: WRONG_FIRST, delayMs: 150 }));
    const child = spawnKoderz(["benchmark", "0", "5", "--mode", "comparative", "--concurrency", "1"], { cwd: workDir, env });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const runId = await waitFor(() => findBenchmarkRunId(stderr));
    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      await waitFor(() => (store.experiments(runId).length >= 3 ? true : undefined), () => stderr);
      child.kill("SIGKILL");
      await child;
      const kept = store.experiments(runId).length;
      expect(kept).toBeGreaterThanOrEqual(3);
      expect(kept).toBeLessThan(10);

      const resumed = await koderz(["benchmark", "--resume", runId], { cwd: workDir, env });
      expect(resumed.exitCode, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`${kept} already done`);
      expect(store.experiments(runId)).toHaveLength(10);
      expect(outcomes(summaryOf(runId))).toEqual(outcomes(summaryOf(firstRunId)));
    } finally {
      store.close();
    }
  });
});

describe("koderz benchmark with bad input", () => {
  it("stops before the run starts when a model does not answer, and records no run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "koderz-bench-down-"));
    // Port 9 (discard) on loopback: nothing listens there.
    writeFileSync(path.join(dir, "koderz.config.json"), JSON.stringify({ models: { "ollama:qwen3-coder:30b": { baseUrl: "http://127.0.0.1:9" } } }));
    const result = await koderz(["benchmark", "0", "3", "--mode", "zero-shot"], { cwd: dir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Ollama at http:\/\/127\.0\.0\.1:9/);
    expect(result.stderr.match(/error:/g)).toHaveLength(1);
    const listed = await koderz(["results", "list", "--json"], { cwd: dir, env });
    expect(listed.exitCode === 1 || JSON.parse(listed.stdout).length === 0, listed.stdout + listed.stderr).toBe(true);
  });

  it("rejects a range that is not START < END with a usage error", async () => {
    const result = await koderz(["benchmark", "5", "3"], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("START and END must be whole numbers with 0 <= START < END");
  });
});

async function waitFor<T>(probe: () => T | undefined, context: () => string = () => "", attempts = 600): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting\n${context()}`);
}
