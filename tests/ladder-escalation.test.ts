import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENTS, type Agent } from "../agents/agent.js";
import { openSandbox } from "../sandbox/select.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { createBackend } from "../src/llm/index.js";
import type { ModelBackend } from "../src/llm/types.js";
import { parseStoredConfig } from "../src/orchestrator/benchmark-config.js";
import { codeRaises } from "../src/orchestrator/pipelines/function-task.js";
import { OrchestratorEpisodeRunner } from "../src/orchestrator/episode-runner.js";
import type { Ladder } from "../src/orchestrator/ladder.js";
import { DEFAULT_SETTINGS } from "../src/orchestrator/pipeline.js";
import { openStore } from "../src/store/index.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { LiveEnvironment } from "../training/live-environment.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, readRunSummary, startTeamWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { expectContractDocument } from "./helpers/json-contract.js";

// The escalation ladder in live episodes: the scripted model server plays the agent team (its
// answers are fixtures, never a model's result); HumanEval/1's Coder is always wrong, so the
// cheap rung fails its visible examples and the policy has a reason to climb.
const WRONG_FIRST = new Set(["HumanEval/1"]);
/** Model names the team server answers to (see team-workdir.ts). */
const CHEAP = "qwen3-coder:30b";
const STRONG = "kimi-k2-0905-preview";

let server: ScriptedModelServer;
let workDir: string;
let tasks: Task[];
let sandbox: Sandbox;

beforeAll(async () => {
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 2);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: WRONG_FIRST, tempPrefix: "koderz-ladder-" }));
  sandbox = await openSandbox("process", { onNotice: () => undefined });
});

afterAll(async () => {
  await sandbox?.close();
  await server?.close();
});

function backend(name: string): ModelBackend {
  return createBackend(`openai-compatible:${name}@${server.openaiBaseUrl}`);
}

function liveEnvironment(ladder: Ladder): LiveEnvironment {
  const team = backend(CHEAP);
  const models = Object.fromEntries(AGENTS.map((role) => [role, team])) as Record<Agent, ModelBackend>;
  const runner = new OrchestratorEpisodeRunner({ models, sandbox, settings: { ...DEFAULT_SETTINGS, trajectories: 2 }, ladder: { ladder, backend } });
  return new LiveEnvironment({ tasks: [tasks[1]!], runner });
}

describe("escalation in live episodes", () => {
  it("keeps the work across rungs of models: the stronger Coder sees the best candidate so far and its failures", async () => {
    server.reset();
    const environment = liveEnvironment({ kind: "models", agent: "Coder", models: [CHEAP, STRONG] });
    const start = await environment.reset();
    expect(start.allowed).toEqual({ kind: "mode", modes: ["fast", "standard", "deep"] });
    await environment.step({ kind: "mode", mode: "fast" });
    const cheap = await environment.step({ kind: "agent", agent: "Coder" });
    expect(cheap.state.episode.visiblePassFraction).toBe(0);
    expect(cheap.state.allowed).toMatchObject({ kind: "agent", agents: expect.arrayContaining(["Escalate", "Stop"]) });
    expect(cheap.state.episode).toMatchObject({ rung: 0, rungs: 2 });

    const climbed = await environment.step({ kind: "agent", agent: "Escalate" });
    expect(climbed.info.agent).toBe("Coder");
    expect(climbed.state.episode).toMatchObject({ rung: 1, rungs: 2, mode: "fast" });
    // The last rung: no Escalate any more.
    expect(climbed.state.allowed.kind === "agent" && climbed.state.allowed.agents).not.toContain("Escalate");

    const [first, second] = server.chatRequests.filter((chat) => chat.prompt.includes("You are the Coder"));
    expect(first!.model).toBe(CHEAP);
    expect(second!.model).toBe(STRONG);
    expect(first!.prompt).not.toContain("The best attempt so far");
    // The cheap rung's candidate (it returns None) and its test report are in the strong rung's prompt.
    expect(second!.prompt).toContain("The best attempt so far");
    expect(second!.prompt).toContain("return None");
    expect(second!.prompt).toMatch(/0\/\d+ visible tests passed/);
  }, 120_000);

  it("climbs a ladder of modes: the policy may start on any rung, and the deeper mode's agents and drafts take over", async () => {
    server.reset();
    const environment = liveEnvironment({ kind: "modes", modes: ["fast", "deep"] });
    expect((await environment.reset()).allowed).toEqual({ kind: "mode", modes: ["fast", "deep"] });
    await environment.step({ kind: "mode", mode: "fast" });
    const cheap = await environment.step({ kind: "agent", agent: "Coder" });
    expect(cheap.state.allowed).toMatchObject({ agents: ["Coder", "Debugger", "Stop", "Escalate"] });
    const climbed = await environment.step({ kind: "agent", agent: "Escalate" });
    expect(climbed.state.episode).toMatchObject({ mode: "deep", rung: 1, rungs: 2 });
    // Deep allows every agent, with a fresh step budget for the rung.
    expect(climbed.state.allowed).toMatchObject({ agents: ["Planner", "Coder", "Tester", "Debugger", "Reviewer", "Stop"] });
    const escalatedCoders = server.chatRequests.filter((chat) => chat.prompt.includes("You are the Coder")).slice(1);
    // Deep's Coder writes its K drafts, each starting from the fast rung's candidate and its failures.
    expect(escalatedCoders).toHaveLength(2);
    for (const chat of escalatedCoders) expect(chat.prompt).toContain("The best attempt so far");
    const done = await environment.step({ kind: "agent", agent: "Debugger" });
    expect(done.state.episode.visiblePassFraction).toBe(1);
    const graded = await environment.step({ kind: "agent", agent: "Stop" });
    expect(graded.info.outcome).toMatchObject({ success: true, escalations: 1, mode: "deep", agents: ["Coder", "Coder", "Debugger"] });
  }, 120_000);
});

describe("what a live episode's observation carries", () => {
  it("the Tester's tests, the Reviewer's verdict, whether the code runs, dollars and tokens, and the rung", async () => {
    server.reset();
    const environment = liveEnvironment({ kind: "modes", modes: ["standard", "deep"] });
    await environment.reset();
    await environment.step({ kind: "mode", mode: "deep" });
    const tested = await environment.step({ kind: "agent", agent: "Tester" });
    expect(tested.state.episode.testerTests).toBe(tasks[1]!.visibleExamples.length);
    const coded = await environment.step({ kind: "agent", agent: "Coder" });
    // The wrong candidate returns None: its tests fail on assertions, so the code runs.
    expect(coded.state.episode).toMatchObject({ visiblePassFraction: 0, visibleTestsRun: true, codeRaises: false, review: "none", rung: 1, rungs: 2 });
    expect(coded.state.episode.tokens).toBeGreaterThan(0);
    const reviewed = await environment.step({ kind: "agent", agent: "Reviewer" });
    expect(reviewed.state.episode.review).toBe("rejected");
    expect(reviewed.state.episode.tokens).toBeGreaterThan(coded.state.episode.tokens);
    await environment.step({ kind: "agent", agent: "Stop" });
  }, 120_000);
});

describe("code that does not run", () => {
  it("is told apart from code that returns a wrong value, in the sandbox's own report words", () => {
    const report = (...failures: string[]) => ["0/2 visible tests passed", ...failures].join("\n");
    expect(codeRaises(report("- f(1) == 2: failed: f(1) returned 3, expected 2", "- assert f(1) == 2: failed: assert f(1) == 2"))).toBe(false);
    expect(codeRaises(report("- f(1) == 2: failed: name 'y' is not defined", "- assert f(1) == 2: failed: name 'y' is not defined"))).toBe(true);
    expect(codeRaises(report("- f(1) == 2: failed: '(' was never closed (<string>, line 6)"))).toBe(true);
    expect(codeRaises("2/2 visible tests passed")).toBe(false);
  });
});

describe("koderz benchmark --mode auto --ladder", () => {
  it.each([
    ["fast,,deep", "rung 2 is empty"],
    ["fast,turbo", '"turbo" is not a mode'],
    ["deep", "at least two rungs"],
    ["Chef=kimi-k2,ollama:qwen3-coder:30b", '"Chef" is not an agent'],
    ["Coder=", "rung 1 is empty"],
    ["Coder=ollama:qwen3-coder:30b,nosuchprovider", 'rung 2, model "nosuchprovider"'],
  ])("refuses --ladder %s with one usage error that says what is wrong and how to fix it", async (ladder, what) => {
    const result = await koderz(["benchmark", "0", "1", "--mode", "auto", "--policy", "policy.json", "--ladder", ladder], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(what);
    expect(result.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(result.stderr).toContain("fix: ");
  });

  it("refuses --ladder without --mode auto", async () => {
    const result = await koderz(["benchmark", "0", "1", "--mode", "fast", "--ladder", "fast,deep"], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--ladder is the ladder --mode auto's policy escalates on");
  });

  it("runs end to end: the policy decides on a ladder of models, and the run records each task's escalations", async () => {
    const policy = path.join(workDir, "policy.json");
    const trained = await koderz(["train-meta", "--episodes", "300", "--eval-episodes", "20", "--checkpoint-every", "0", "--seed", "3", "--out", policy], { cwd: workDir, env });
    expect(trained.exitCode, trained.stderr).toBe(0);
    const ladder = "Coder=ollama:qwen3-coder:30b,kimi-k2";
    const result = await koderz(["benchmark", "0", "2", "--mode", "auto", "--policy", policy, "--ladder", ladder, "--sandbox", "process"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("auto: ladder Coder: ollama:qwen3-coder:30b > kimi-k2");
    const runId = benchmarkRunIdFrom(result.stderr);
    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      const config = store.getRun(runId).config;
      expect(config).toMatchObject({ mode: "auto", ladder: { kind: "models", agent: "Coder", models: ["ollama:qwen3-coder:30b", "kimi-k2"] } });
      // A run stored under the old names (roleOverrides, the ladder's role) reads the same.
      const { modelFor, ladder: stored, ...rest } = config as { modelFor: object; ladder: { agent: string } };
      const old = { ...rest, roleOverrides: modelFor, ladder: { kind: "models", role: stored.agent, models: ["ollama:qwen3-coder:30b", "kimi-k2"] } };
      expect(parseStoredConfig(old).data).toEqual(parseStoredConfig(config).data);
      const experiments = store.experiments(runId);
      expect(experiments.map((e) => e.problemId).sort()).toEqual(tasks.map((t) => t.id).sort());
      for (const experiment of experiments) {
        const escalations = Number(experiment.tags.find((tag) => tag.startsWith("escalations:"))?.split(":")[1]);
        expect([0, 1]).toContain(escalations);
        // A climbed episode's Coder calls after the climb went to the rung's model.
        const coderModels = store.steps(experiment.experimentId).filter((s) => s.agent === "Coder").map((s) => s.model);
        if (escalations === 1) expect(coderModels.at(-1)).toBe("kimi-k2");
        else expect(coderModels.every((model) => model !== "kimi-k2")).toBe(true);
      }
      // Escalations per rung, in the run's end table, its summary file and `results show`: the
      // problems that climbed, counted here from the steps themselves (a Coder call to the strong rung's model).
      const climbed = experiments.filter((e) => store.steps(e.experimentId).some((step) => step.agent === "Coder" && step.model === "kimi-k2"));
      const solvedAt = (rung: number) => experiments.filter((e) => e.success && climbed.includes(e) === (rung === 2)).length;
      const expected = {
        ladder: "Coder: ollama:qwen3-coder:30b > kimi-k2",
        escalations: climbed.length,
        unrecorded: 0,
        rungs: [
          { rung: 1, name: "Coder=ollama:qwen3-coder:30b", started: 2, reached: 2, escalated: climbed.length, solved: solvedAt(1), failed: 2 - climbed.length - solvedAt(1) },
          { rung: 2, name: "Coder=kimi-k2", started: 0, reached: climbed.length, escalated: 0, solved: solvedAt(2), failed: climbed.length - solvedAt(2) },
        ],
      };
      expect(result.stdout).toContain(`escalations per rung (ladder Coder: ollama:qwen3-coder:30b > kimi-k2; ${climbed.length} escalation`);
      expect(result.stdout).toMatch(new RegExp(`^\\s*1  Coder=ollama:qwen3-coder:30b\\s+2\\s+2\\s+${climbed.length}\\s+${solvedAt(1)}\\s`, "m"));
      const summary = readRunSummary(workDir, runId);
      expectContractDocument("run-summary", summary);
      expect("escalations" in summary && summary.escalations).toEqual(expected);
      const shown = await koderz(["results", "show", runId, "--json"], { cwd: workDir, env });
      const document = JSON.parse(shown.stdout) as { escalations: unknown };
      expectContractDocument("results-show", document);
      expect(document.escalations).toEqual(expected);
      expect((await koderz(["results", "show", runId], { cwd: workDir, env })).stdout).toContain("escalations per rung");
    } finally {
      store.close();
    }
  }, 300_000);
});
