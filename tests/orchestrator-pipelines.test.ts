import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENTS, type Agent } from "../agents/agent.js";
import { openSandbox } from "../sandbox/select.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { loadSuite } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { createBackend } from "../src/llm/index.js";
import type { ModelBackend } from "../src/llm/types.js";
import { runExperiment } from "../src/orchestrator/experiment.js";
import { DEFAULT_SETTINGS, type PipelineMode } from "../src/orchestrator/pipeline.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

// The mode pipelines, in process: real openai client to the scripted team, real Docker sandbox.
let server: ScriptedModelServer;
let sandbox: Sandbox;
let task: Task;
let models: Record<Agent, ModelBackend>;

beforeAll(async () => {
  const tasks = await loadSuite({ suite: "humaneval", dataset: humanEvalFile });
  task = tasks.find((t) => t.id === "HumanEval/2")!;
  server = await startScriptedModelServer({ script: codingTeamScript([task], { wrongFirst: new Set([task.id]) }) });
  const backend = createBackend(`openai-compatible:team@${server.openaiBaseUrl}`);
  models = Object.fromEntries(AGENTS.map((role) => [role, backend])) as Record<Agent, ModelBackend>;
  sandbox = await openSandbox("docker");
});

afterAll(async () => {
  await sandbox?.close();
  await server?.close();
});

function run(mode: PipelineMode, overrides: Partial<typeof DEFAULT_SETTINGS> = {}, budget = {}) {
  server.reset();
  return runExperiment({ task, mode, models, sandbox, settings: { ...DEFAULT_SETTINGS, ...overrides }, budget });
}

describe("mode pipelines", () => {
  it("fast: one Coder call graded as is, even when its visible check fails", async () => {
    const outcome = await run("fast");
    expect(outcome.steps.map((s) => s.agent)).toEqual(["Coder"]);
    expect(outcome.steps[0]!.visiblePassFraction).toBe(0);
    expect(outcome.success).toBe(false);
    expect(outcome.verdict).toMatch(/^failed: /);
  });

  it("standard: Planner, Tester and Coder, then the Debugger fixes what the tests caught", async () => {
    const outcome = await run("standard");
    expect(outcome.steps.map((s) => s.agent)).toEqual(["Planner", "Tester", "Coder", "Debugger"]);
    expect(outcome.steps.at(-1)!.visiblePassFraction).toBe(1);
    expect(outcome.success).toBe(true);
    expect(outcome.iterations).toBe(2);
  });

  it("deep: K parallel Coder trajectories with distinct seeds, then the Debugger and the Reviewer", async () => {
    const outcome = await run("deep", { trajectories: 3 });
    const agents = outcome.steps.map((s) => s.agent);
    expect(agents.filter((a) => a === "Coder")).toHaveLength(3);
    expect(agents).toContain("Debugger");
    expect(agents).toContain("Reviewer");
    const coderSeeds = server.chatRequests.filter((c) => c.prompt.includes("You are the Coder")).map((c) => c.seed);
    expect(new Set(coderSeeds).size).toBe(3);
    expect(outcome.success).toBe(true);
  });

  it("stops at the step budget and still grades what it has", async () => {
    const outcome = await run("standard", {}, { maxSteps: 3 });
    expect(outcome.steps.map((s) => s.agent)).toEqual(["Planner", "Tester", "Coder"]);
    expect(outcome.stoppedBy).toContain("step budget");
    expect(outcome.success).toBe(false);
  });

  it("adds up tokens and cost from its steps", async () => {
    const outcome = await run("standard");
    expect(outcome.inputTokens).toBe(outcome.steps.reduce((n, s) => n + s.inputTokens, 0));
    expect(outcome.inputTokens).toBeGreaterThan(0);
    expect(server.chatRequests).toHaveLength(outcome.steps.length);
  });
});
