import { describe, expect, it } from "vitest";
import type { Agent, Mode } from "../policy/actions.js";
import type { Task } from "../tasks/task.js";
import { LiveEnvironment, type LiveEpisode, type LiveEpisodeRunner } from "../training/live-environment.js";

const task: Task = {
  id: "HumanEval/53",
  index: 53,
  suite: "humaneval",
  prompt: 'def add(x: int, y: int):\n    """Add two numbers x and y\n    >>> add(2, 3)\n    5\n    """\n',
  entryPoint: "add",
  canonicalSolution: "    return x + y\n",
  visibleExamples: [{ call: "add(2, 3)", expected: "5" }],
  hiddenTest: "def check(candidate):\n    assert candidate(1, 1) == 2\n",
};

/** A scripted stand-in for the orchestrator (a test fixture: no model, no sandbox). */
function scriptedRunner(log: string[]): LiveEpisodeRunner {
  return {
    async start(started: Task, mode: Mode): Promise<LiveEpisode> {
      log.push(`start ${started.id} ${mode}`);
      let fixed = false;
      return {
        async run(agent: Agent) {
          log.push(`run ${agent}`);
          if (agent === "Coder") return { visiblePassFraction: 0.5, tokens: 1000, costUsd: 0.001 };
          if (agent === "Debugger") {
            fixed = true;
            return { visiblePassFraction: 1, tokens: 2000, costUsd: 0.002 };
          }
          return { tokens: 500, costUsd: 0.0005 };
        },
        async finish() {
          log.push("finish");
          return { success: fixed };
        },
        pipelineAgent: () => (fixed ? "Stop" : "Debugger"),
      };
    },
  };
}

describe("LiveEnvironment", () => {
  it("runs one agent per decision through the orchestrator and grades at Stop", async () => {
    const log: string[] = [];
    const env = new LiveEnvironment({ tasks: [task], runner: scriptedRunner(log) });
    const first = await env.reset();
    expect(first.task).toEqual({ id: task.id, prompt: task.prompt, entryPoint: task.entryPoint, visibleExamples: task.visibleExamples });
    expect(JSON.stringify(first)).not.toContain("check(candidate)");

    await env.step({ kind: "mode", mode: "standard" });
    const coded = await env.step({ kind: "agent", agent: "Coder" });
    expect(coded.reward).toBeCloseTo(0.5 - 0.001, 9);
    expect(coded.state.allowed).toMatchObject({ kind: "agent", pipelineAgent: "Debugger" });
    const fixed = await env.step({ kind: "agent", agent: "Debugger" });
    expect(fixed.reward).toBeCloseTo(0.5 - 0.002, 9);
    const end = await env.step({ kind: "agent", agent: "Stop" });
    expect(end.done).toBe(true);
    expect(end.reward).toBe(1);
    expect(end.info.outcome).toMatchObject({ source: "live", mode: "standard", agents: ["Coder", "Debugger"], success: true, tokens: 3000 });
    expect(end.info.outcome!.oracle).toBeUndefined();
    expect(log).toEqual(["start HumanEval/53 standard", "run Coder", "run Debugger", "finish"]);
  });

  it("grades when the mode's step budget is spent, without a Stop", async () => {
    const log: string[] = [];
    const env = new LiveEnvironment({ tasks: [task], runner: scriptedRunner(log) });
    await env.reset();
    await env.step({ kind: "mode", mode: "fast" });
    await env.step({ kind: "agent", agent: "Coder" });
    const last = await env.step({ kind: "agent", agent: "Coder" });
    expect(last.done).toBe(true);
    expect(log.at(-1)).toBe("finish");
    await expect(env.step({ kind: "agent", agent: "Stop" })).rejects.toThrow(/call reset/);
  });
});
