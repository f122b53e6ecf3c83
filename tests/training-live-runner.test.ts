import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Action } from "../policy/actions.js";
import { openSandbox } from "../sandbox/select.js";
import { loadModelConfig } from "../src/llm/index.js";
import { openEpisodeRunner, type OrchestratedEpisode, type OrchestratorEpisodeRunner } from "../src/orchestrator/episode-runner.js";
import { DEFAULT_SETTINGS } from "../src/orchestrator/pipeline.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { LiveEnvironment } from "../training/live-environment.js";
import { DEFAULT_REWARD_CONFIG } from "../training/rewards.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { expectNoHiddenTestShown, startTeamWorkDir } from "./fixtures/team-workdir.js";
import { requireDockerSandbox } from "./helpers/docker.js";

// The orchestrator's LiveEpisodeRunner under a LiveEnvironment, one agent per decision: real
// backends over HTTP to the scripted model server (it plays the agent team; its answers are
// fixtures, not model results) and the Docker sandbox. The Coder gets HumanEval/1 wrong first.
const WRONG_FIRST = new Set(["HumanEval/1"]);

let server: ScriptedModelServer;
let tasks: Task[];
let runner: OrchestratorEpisodeRunner;
let close: () => Promise<void>;
let episodes: OrchestratedEpisode[];
const savedKey = process.env.MOONSHOT_API_KEY;

beforeAll(async () => {
  await requireDockerSandbox();
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 2);
  const team = await startTeamWorkDir(tasks, { wrongFirst: WRONG_FIRST, tempPrefix: "koderz-live-runner-" });
  server = team.server;
  process.env.MOONSHOT_API_KEY = "test-key";
  ({ runner, close } = await openEpisodeRunner({
    tasks,
    models: { localModel: "ollama:qwen3-coder:30b", frontierModel: "kimi-k2", modelFor: {} },
    modelConfig: loadModelConfig({ path: team.configFile }),
    settings: { ...DEFAULT_SETTINGS, trajectories: 2 },
    openSandbox: () => openSandbox("docker", { onNotice: () => undefined }),
  }));
});

afterAll(async () => {
  await close?.();
  await server?.close();
  if (savedKey === undefined) delete process.env.MOONSHOT_API_KEY;
  else process.env.MOONSHOT_API_KEY = savedKey;
});

/** A LiveEnvironment on one task whose episodes are kept, so the test can read their trajectories. */
function environmentFor(task: Task): LiveEnvironment {
  episodes = [];
  return new LiveEnvironment({
    tasks: [task],
    runner: { start: async (t, mode) => episodes[episodes.push(await runner.start(t, mode)) - 1]! },
  });
}

async function play(environment: LiveEnvironment, actions: Action[]) {
  await environment.reset();
  const results = [];
  for (const action of actions) results.push(await environment.step(action));
  return results;
}

const agent = (name: "Planner" | "Coder" | "Tester" | "Debugger" | "Reviewer" | "Stop"): Action => ({ kind: "agent", agent: name });

describe("the orchestrator's live episodes", () => {
  it("runs the agent the policy picks on shared state, and grades the best candidate at Stop", async () => {
    const steps = await play(environmentFor(tasks[1]!), [{ kind: "mode", mode: "deep" }, agent("Reviewer"), agent("Tester"), agent("Debugger"), agent("Reviewer"), agent("Stop")]);
    const trajectory = episodes[0]!.trajectory.steps;

    // No candidate yet, so the Reviewer's turn went to the Coder: deep mode samples two drafts, both wrong.
    expect(trajectory.map((s) => s.agent)).toEqual(["Coder", "Coder", "Tester", "Debugger", "Reviewer"]);
    expect(trajectory[0]!.visiblePassFraction).toBe(0);
    // The Tester's tests join the visible examples, and the best candidate is re-checked against them all.
    expect(trajectory[2]!.visiblePassFraction).toBe(0);
    expect(trajectory[2]!.testOutput).toMatch(/^0\/\d+ visible tests passed/);
    // The Debugger saw the failures, and fixed the code.
    expect(trajectory[3]!.prompt).toContain("Failing tests:");
    expect(trajectory[3]!.visiblePassFraction).toBe(1);

    // Rewards are training/rewards.ts's: progress minus the token cost, and the success bonus at the end.
    const tokensOf = (from: number, to: number) => trajectory.slice(from, to).reduce((n, s) => n + s.inputTokens + s.outputTokens, 0);
    const lambda = DEFAULT_REWARD_CONFIG.lambdaPer1000Tokens / 1000;
    expect(steps[1]!.reward).toBeCloseTo(0 - lambda * tokensOf(0, 2), 9);
    expect(steps[3]!.reward).toBeCloseTo(1 - lambda * tokensOf(3, 4), 9);
    const end = steps.at(-1)!;
    expect(end.done).toBe(true);
    expect(end.reward).toBe(1);
    expect(end.info.outcome).toMatchObject({ source: "live", mode: "deep", agents: ["Reviewer", "Tester", "Debugger", "Reviewer"], success: true, tokens: tokensOf(0, 5) });
    expect(end.info.outcome!.oracle).toBeUndefined();
    expect(episodes[0]!.verdict?.passed).toBe(true);
    expect(episodes[0]!.result().iterations).toBe(3);
  });

  it("grades when the mode's step budget is spent, and an empty episode fails", async () => {
    const fast = await play(environmentFor(tasks[0]!), [{ kind: "mode", mode: "fast" }, agent("Coder"), agent("Debugger")]);
    expect(fast.at(-1)!.done).toBe(true);
    expect(fast.at(-1)!.info.outcome).toMatchObject({ mode: "fast", success: true });
    expect(episodes[0]!.trajectory.steps.map((s) => s.agent)).toEqual(["Coder", "Debugger"]);

    const stopped = await play(environmentFor(tasks[0]!), [{ kind: "mode", mode: "standard" }, agent("Stop")]);
    expect(stopped[1]!.info.outcome).toMatchObject({ success: false, tokens: 0, agents: [] });
  });

  it("never shows a hidden test to a model", () => {
    expectNoHiddenTestShown(server, tasks);
  });
});
