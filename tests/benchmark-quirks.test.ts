import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/index.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { doctorAnswers, withQuirk, type Quirk } from "./fixtures/model-quirks.js";
import type { Script, ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, comparativeRunSummary, startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// `koderz benchmark` through scripted servers that answer the coding team's script with a real
// server's quirk (tests/fixtures/model-quirks.ts has each wire format and its documentation):
// the Planner on the OpenAI format (Kimi K2's route), the Coder and Debugger on Ollama's. The
// verdicts must be the script's (a thinking model's reasoning holds a decoy import that fails
// any program it gets into), and every step must store non-zero tokens.
const WRONG_FIRST = new Set(["HumanEval/1"]);
const QUIRKS_ON_FUNCTION_TASKS: Quirk[] = ["think-tags", "think-close-only", "reasoning-field", "no-usage"];

let tasks: Task[];
const servers: ScriptedModelServer[] = [];

beforeAll(async () => {
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 1, 2);
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** The team's script for the benchmark's problems, right answers for `--doctor`'s questions. */
function teamAndDoctor(): Script {
  const team = codingTeamScript(tasks, { wrongFirst: WRONG_FIRST });
  return (chat, index) => (tasks.some((task) => chat.prompt.includes(`def ${task.entryPoint}(`)) ? team(chat, index) : doctorAnswers(chat, index));
}

describe.each(QUIRKS_ON_FUNCTION_TASKS)("koderz benchmark through a %s server", (quirk) => {
  it("scores the scripted answers right and stores non-zero tokens", async () => {
    const { server, workDir } = await startModelWorkDir({ script: withQuirk(quirk, teamAndDoctor()), tempPrefix: `koderz-quirk-${quirk}-` });
    servers.push(server);
    // One problem whose first attempt is wrong: zero-shot fails it, the Debugger's fix passes.
    const result = await koderz(["benchmark", "1", "2", "--mode", "comparative", "--sandbox", "process", "--doctor"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    // --doctor checked both models first, and found them ready (a quirk koderz handles is at most a warning).
    expect(result.stderr).toMatch(/kimi-k2: ready/);
    expect(result.stderr).toMatch(/ollama:qwen3-coder:30b: ready/);
    if (quirk === "no-usage") expect(result.stderr).toMatch(/usage\s+WARN/);
    const runId = benchmarkRunIdFrom(result.stderr);
    const summary = comparativeRunSummary(workDir, runId);
    expect(summary.zeroShot.results.map((row) => [row.problemId, row.success])).toEqual([["HumanEval/1", false]]);
    expect(summary.iterative.results.map((row) => [row.problemId, row.success, row.iterations])).toEqual([["HumanEval/1", true, 2]]);
    for (const row of [...summary.zeroShot.results, ...summary.iterative.results]) {
      expect(row.inputTokens, row.problemId).toBeGreaterThan(0);
      expect(row.outputTokens, row.problemId).toBeGreaterThan(0);
    }

    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      const steps = store.experiments(runId).flatMap((experiment) => store.steps(experiment.experimentId));
      expect(steps.length).toBeGreaterThan(0);
      for (const step of steps) {
        if (step.model === undefined) continue;
        expect(step.inputTokens, `${step.agent}`).toBeGreaterThan(0);
        expect(step.outputTokens, `${step.agent}`).toBeGreaterThan(0);
        expect(step.code ?? "").not.toContain("koderz_reasoning_must_not_be_code");
      }
      const modelSteps = steps.filter((step) => step.model !== undefined);
      if (quirk === "no-usage") for (const step of modelSteps) expect(step.response).toContain("[koderz: token counts estimated: the server reported none]");
      // The reasoning is kept in the trajectory, marked as such.
      else for (const step of modelSteps) expect(step.response).toMatch(/^\[reasoning\]\n[\s\S]*koderz_reasoning_must_not_be_code[\s\S]*\n\[answer\]\n/);
    } finally {
      store.close();
    }
  });
});

describe("koderz benchmark through a server that stops every answer at the token limit", () => {
  it("records the failures as cut off, not as wrong answers", async () => {
    const { server, workDir } = await startModelWorkDir({ script: withQuirk("length-stop", teamAndDoctor()), tempPrefix: "koderz-quirk-length-" });
    servers.push(server);
    const result = await koderz(["benchmark", "1", "2", "--mode", "comparative", "--sandbox", "process"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      const experiments = store.experiments(benchmarkRunIdFrom(result.stderr));
      expect(experiments).toHaveLength(2);
      for (const experiment of experiments) {
        expect(experiment.success).toBe(false);
        expect(experiment.verdict).toContain('(cut off: the answer that wrote this code stopped at the token limit, finish reason "length")');
      }
    } finally {
      store.close();
    }
  });
});

describe("koderz benchmark --doctor", () => {
  it("stops before the run when a model fails a check, saying which and why", async () => {
    const { server, workDir } = await startModelWorkDir({ script: withQuirk("length-stop", teamAndDoctor()), tempPrefix: "koderz-quirk-doctor-" });
    servers.push(server);
    const result = await koderz(["benchmark", "1", "2", "--mode", "comparative", "--sandbox", "process", "--doctor"], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/code\s+FAIL\s+the answer stopped at the 1024-token limit/);
    expect(result.stderr).toMatch(/error: 2 of 2 models failed a check/);
    expect(result.stdout).toBe("");
    expect(existsSync(path.join(workDir, "results"))).toBe(false);
  });
});
