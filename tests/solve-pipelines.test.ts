import { describe, expect, it } from "vitest";
import { AGENTS, type Agent } from "../agents/agent.js";
import type { ToolWorkspace } from "../agents/tools/index.js";
import { SOLVE_PIPELINES } from "../src/orchestrator/solve/repository-task.js";
import type { SolveContext, SolveMode } from "../src/orchestrator/solve/solve-pipeline.js";
import { SolveTrajectory } from "../src/orchestrator/solve/solve-trajectory.js";
import type { ChatResponse, ModelBackend } from "../src/llm/types.js";

// Which roles each mode calls, in which order, and when the Debugger steps in: the pipelines with
// in-memory models and a test check that fails until the Debugger has had its turn.

function answering(role: Agent, text: string): ModelBackend {
  return {
    model: `fake-${role}`,
    preflight: async () => undefined,
    chat: async (): Promise<ChatResponse> => ({ text, toolCalls: [], usage: { input: 1, output: 1 }, latencyMs: 1, model: `fake-${role}`, costUsd: 0, cached: false }),
  };
}

function context(options: { knownFailing?: string[]; passesAfter: Agent; review?: string }): SolveContext {
  const calledRoles: Agent[] = [];
  const workspace: ToolWorkspace = {
    exec: async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false, truncated: false }),
    readFile: async () => undefined,
    writeFile: async () => undefined,
  };
  const texts: Record<Agent, string> = { Planner: "plan", Coder: "done", Tester: "TESTS: t::x", Debugger: "fixed", Reviewer: options.review ?? "ACCEPT\nfine" };
  const models = Object.fromEntries(
    AGENTS.map((role) => {
      const backend = answering(role, texts[role]);
      return [role, { ...backend, chat: (request: Parameters<ModelBackend["chat"]>[0]) => (calledRoles.push(role), backend.chat(request)) }];
    }),
  ) as Record<Agent, ModelBackend>;
  return {
    issue: { title: "t", issueText: "it breaks", knownFailingTests: options.knownFailing ?? [], testCommand: "pytest" },
    repoMap: "a.py",
    models,
    tools: { workspace, runTests: async () => ({ command: "pytest", passed: true, exitCode: 0, timedOut: false, output: "" }) },
    trajectory: new SolveTrajectory(),
    check: async () => {
      const passed = calledRoles.includes(options.passesAfter);
      return { command: "pytest", passed, exitCode: passed ? 0 : 1, timedOut: false, output: passed ? "1 passed" : "1 failed", durationMs: 1 };
    },
    diff: async () => "diff --git a/a.py b/a.py",
    debugRounds: 2,
  };
}

async function roles(mode: SolveMode, ctx: SolveContext) {
  const outcome = await SOLVE_PIPELINES[mode](ctx);
  // A model turn under its agent; koderz's own test runs as "koderz:run_tests".
  return { outcome, agents: ctx.trajectory.steps.map((s) => (s.action === "model" ? s.agent : `${s.agent}:${s.action}`)) };
}

describe("solve pipelines", () => {
  it("fast: the Coder alone", async () => {
    expect((await roles("fast", context({ passesAfter: "Coder" }))).agents).toEqual(["Coder"]);
  });

  it("standard: Planner, Tester when no failing test is known, Coder, then a check", async () => {
    const { agents, outcome } = await roles("standard", context({ passesAfter: "Coder" }));
    expect(agents).toEqual(["Planner", "Tester", "Coder", "koderz:run_tests"]);
    expect(outcome.reproductionTests).toEqual(["t::x"]);
    expect(outcome.iterations).toBe(1);
  });

  it("standard: no Tester when the task names the failing test; the Debugger while the check fails", async () => {
    const { agents, outcome } = await roles("standard", context({ knownFailing: ["t::y"], passesAfter: "Debugger" }));
    expect(agents).toEqual(["Planner", "Coder", "koderz:run_tests", "Debugger", "koderz:run_tests"]);
    expect(outcome.iterations).toBe(2);
  });

  it("standard: stops after the Debugger rounds even when the tests still fail", async () => {
    const { agents } = await roles("standard", context({ knownFailing: ["t::y"], passesAfter: "Reviewer" }));
    expect(agents.filter((a) => a === "Debugger")).toHaveLength(2);
  });

  it("deep: the Reviewer reads the final diff; a rejection buys one guided Debugger round", async () => {
    const accepted = await roles("deep", context({ passesAfter: "Coder" }));
    expect(accepted.agents).toEqual(["Planner", "Tester", "Coder", "koderz:run_tests", "Reviewer"]);
    expect(accepted.outcome.review?.accept).toBe(true);
    const rejected = await roles("deep", context({ passesAfter: "Coder", review: "REJECT\nhandle tabs too" }));
    expect(rejected.agents).toEqual(["Planner", "Tester", "Coder", "koderz:run_tests", "Reviewer", "Debugger"]);
    expect(rejected.outcome.review).toEqual({ accept: false, feedback: "handle tabs too" });
  });
});
