import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicyFile } from "../policy/policy-file.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import { parseMetricLines } from "../training/metrics.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startTeamWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { expectContractDocument } from "./helpers/json-contract.js";

// `koderz train-meta --env live` end to end: the real binary trains on live episodes, with the
// benchmark's model flags pointed at the scripted model server (it plays the agent team; its
// answers are fixtures, not model results) and the Docker sandbox.
let server: ScriptedModelServer;
let workDir: string;

beforeAll(async () => {
  const tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 2);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: new Set(["HumanEval/1"]), tempPrefix: "koderz-train-live-" }));
});

afterAll(async () => {
  await server?.close();
});

describe("koderz train-meta --env live", () => {
  it("trains on live episodes from a synthetic start, and reports regret as unavailable", async () => {
    const synthetic = await koderz(["train-meta", "--episodes", "400", "--eval-episodes", "200", "--checkpoint-every", "0", "--out", "start.json"], { cwd: workDir, env });
    expect(synthetic.exitCode, synthetic.stderr).toBe(0);
    const requestsBefore = server.chatRequests.length;

    const run = await koderz(
      ["train-meta", "--env", "live", "--episodes", "2", "--problems", "0:2", "--concurrency", "2", "--policy", "start.json", "--out", "live.json", "--checkpoint-every", "0", "--json"],
      { cwd: workDir, env },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/episodes from: live: real agents, models and sandbox on 2 task\(s\)/);
    expect(run.stderr).toMatch(/starting from policy start\.json \(400 episodes of synthetic training\)/);
    const report = JSON.parse(run.stdout) as unknown;
    expectContractDocument("train-meta", report);
    // Regret is unknown live (no oracle): null, never 0.
    expect(report).toMatchObject({ source: "live", episodes: 2, cumulativeRegret: null, regret: expect.stringMatching(/^unavailable/) });
    expect(server.chatRequests.length).toBeGreaterThan(requestsBefore);

    const lines = parseMetricLines(readFileSync(path.join(workDir, "live.metrics.jsonl"), "utf8"));
    const episodes = lines.filter((line) => line.type === "episode");
    expect(episodes.map((e) => e.taskId).sort()).toEqual(["HumanEval/0", "HumanEval/1"]);
    for (const episode of episodes) expect(episode).toMatchObject({ env: "live", oracleReturn: null, regret: null, cumulativeRegret: null });
    expect(lines.filter((line) => line.type === "update")).toEqual([expect.objectContaining({ env: "live", episodes: 2, cumulativeRegret: null })]);
    expect(lines.some((line) => line.type === "comparison")).toBe(false);

    const policy = parsePolicyFile(readFileSync(path.join(workDir, "live.json"), "utf8"), "live.json");
    expect(policy.training).toMatchObject({ env: "live", synthetic: false, episodes: 402 });
    expect(policy.training.note).toMatch(/^continued from start\.json \(400 synthetic episodes/);
    expect(policy.training.summary).toEqual({ trainingMeanReturn: expect.any(Number), trainingSuccessRate: expect.any(Number) });
  });

  it("rejects a malformed problem range as a usage error, before any model is called", async () => {
    const before = server.chatRequests.length;
    const shape = await koderz(["train-meta", "--env", "live", "--problems", "5"], { cwd: workDir, env });
    expect(shape.exitCode).toBe(2);
    expect(shape.stderr).toMatch(/--problems: must be START:END/);
    const range = await koderz(["train-meta", "--env", "live", "--problems", "0:999"], { cwd: workDir, env });
    expect(range.exitCode).toBe(2);
    expect(range.stderr).toMatch(/problem range 0 999 is not valid/);
    expect(server.chatRequests.length).toBe(before);
  });
});
