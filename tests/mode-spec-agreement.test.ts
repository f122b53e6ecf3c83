import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENTS, type Agent } from "../agents/agent.js";
import type { Mode } from "../policy/actions.js";
import { draftsPerCoderStep, MODE_SPECS, SCRIPT_DEFAULTS } from "../policy/mode-spec.js";
import { openSandbox } from "../sandbox/select.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { createBackend } from "../src/llm/index.js";
import type { ModelBackend } from "../src/llm/types.js";
import { DEFAULT_SETTINGS } from "../src/orchestrator/pipeline.js";
import { scriptedPipeline } from "../src/orchestrator/pipelines/function-task.js";
import { Trajectory } from "../src/orchestrator/trajectory.js";
import { loadSuite } from "../tasks/load.js";
import { publicView, type Task } from "../tasks/task.js";
import { createSyntheticEnvironments } from "../training/synthetic-environment.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { startScriptedModelServer, type ReceivedChat, type Script, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

// The one mode spec, checked where it matters: each real HumanEval pipeline is played through the
// scripted model server under every kind of evidence (which call first writes right code, whether
// the Reviewer accepts it). Every agent sequence the synthetic simulator's always-<mode> baseline
// plays must be one of those real sequences, and every real sequence must be playable in the
// simulator's episodes of that mode (each agent allowed, within the step budget). The simulator's
// tasks are never hard enough for deep to need its hybrid step, so that direction is checked by
// playability rather than by the baseline.

/** Which call first writes the right function; before it, every candidate returns None. */
type RightFrom = "Coder" | "Debugger1" | "Debugger2" | "Hybrid" | "never";
type Reviewer = "accepts right code" | "always rejects";

let server: ScriptedModelServer;
let sandbox: Sandbox;
let task: Task;
let models: Record<Agent, ModelBackend>;

beforeAll(async () => {
  task = (await loadSuite({ suite: "humaneval", dataset: humanEvalFile })).find((t) => t.id === "HumanEval/2")!;
  server = await startScriptedModelServer();
  const backend = createBackend(`openai-compatible:team@${server.openaiBaseUrl}`);
  models = Object.fromEntries(AGENTS.map((role) => [role, backend])) as Record<Agent, ModelBackend>;
  sandbox = await openSandbox("process", { onNotice: () => undefined });
});

afterAll(async () => {
  await sandbox?.close();
  await server?.close();
});

/** A team whose evidence the test decides; a fixture, never a model's result. */
function team(rightFrom: RightFrom, reviewer: Reviewer): Script {
  const right = "```python\n" + task.prompt + task.canonicalSolution + "\n```";
  const wrong = "```python\n" + task.prompt + "    return None\n```";
  let debuggerCalls = 0;
  return (chat: ReceivedChat) => {
    const role = /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
    switch (role) {
      case "Planner":
        return { text: "1. Drop the integer part.\n2. Return the rest." };
      case "Tester":
        return { text: "```python\n" + task.visibleExamples.map((e) => `assert ${e.call} == ${e.expected}`).join("\n") + "\n```" };
      case "Coder": {
        const hybrid = chat.prompt.includes("Two candidates passed the most tests");
        return { text: rightFrom === "Coder" || (hybrid && rightFrom === "Hybrid") ? right : wrong };
      }
      case "Debugger":
        debuggerCalls += 1;
        return { text: (rightFrom === "Debugger1" && debuggerCalls >= 1) || (rightFrom === "Debugger2" && debuggerCalls >= 2) ? right : wrong };
      case "Reviewer":
        return { text: reviewer === "accepts right code" && chat.prompt.includes(task.canonicalSolution.trim().split("\n")[0]!.trim()) ? "ACCEPT\nfine" : "REJECT\nreturns None" };
      default:
        return { text: "unknown role" };
    }
  };
}

const played = new Map<string, string>();

/** The trajectory's agents when the real pipeline meets this evidence (each run once per file). */
async function realSequence(mode: Mode, rightFrom: RightFrom, reviewer: Reviewer): Promise<string> {
  const key = `${mode}|${rightFrom}|${reviewer}`;
  if (!played.has(key)) played.set(key, await playReal(mode, rightFrom, reviewer));
  return played.get(key)!;
}

async function playReal(mode: Mode, rightFrom: RightFrom, reviewer: Reviewer): Promise<string> {
  server.reset();
  server.setScript(team(rightFrom, reviewer));
  const trajectory = new Trajectory();
  await scriptedPipeline(mode)({ task: publicView(task), models, sandbox, trajectory, settings: DEFAULT_SETTINGS });
  return trajectory.steps.map((step) => step.agent).join(" ");
}

/** K: the model calls of a drafts Coder step (the first Coder step of a mode that samples drafts). */
function draftsOf(mode: Mode): number {
  return draftsPerCoderStep(MODE_SPECS.humaneval[mode], SCRIPT_DEFAULTS);
}

/** The simulator's always-<mode> baseline over many synthetic tasks, as trajectories: a drafts Coder step is K Coder calls. */
async function simulatedSequences(mode: Mode, episodes: number): Promise<Set<string>> {
  const [environment] = createSyntheticEnvironments(1, 7);
  const drafts = draftsOf(mode);
  const sequences = new Set<string>();
  for (let episode = 0; episode < episodes; episode++) {
    await environment!.reset();
    let result = await environment!.step({ kind: "mode", mode });
    while (!result.done) {
      const allowed = result.state.allowed;
      const next = allowed.kind === "agent" ? (allowed.pipelineAgent ?? "Stop") : "Stop";
      result = await environment!.step({ kind: "agent", agent: next });
    }
    const agents: Agent[] = result.info.outcome!.agents;
    const calls = agents.flatMap((agent, index) => (agent === "Coder" && agents.indexOf("Coder") === index ? Array<Agent>(drafts).fill("Coder") : [agent]));
    sequences.add(calls.join(" "));
  }
  return sequences;
}

/** Whether a trajectory (drafts collapsed back into one Coder step) can be played, step by step, in a simulated episode of the mode. */
async function playableInSimulator(mode: Mode, sequence: string): Promise<boolean> {
  const calls = sequence.split(" ") as Agent[];
  const steps = calls.filter((agent, index) => !(agent === "Coder" && index > 0 && calls[index - 1] === "Coder" && index < calls.indexOf("Coder") + draftsOf(mode)));
  const [environment] = createSyntheticEnvironments(1, 11);
  await environment!.reset();
  let result = await environment!.step({ kind: "mode", mode });
  for (const agent of steps) {
    const allowed = result.state.allowed;
    if (result.done || allowed.kind !== "agent" || !allowed.agents.includes(agent)) return false;
    result = await environment!.step({ kind: "agent", agent });
  }
  return true;
}

const EVIDENCE: Record<Mode, Array<[RightFrom, Reviewer]>> = {
  fast: [
    ["Coder", "accepts right code"],
    ["never", "accepts right code"],
  ],
  standard: (["Coder", "Debugger1", "Debugger2", "never"] as const).map((rightFrom) => [rightFrom, "accepts right code"]),
  // "Hybrid" and "never" differ only in what the hybrid's candidate is worth, not in which agents run.
  deep: [
    ...(["Coder", "Debugger1", "Debugger2"] as const).flatMap((rightFrom): Array<[RightFrom, Reviewer]> => [
      [rightFrom, "accepts right code"],
      [rightFrom, "always rejects"],
    ]),
    ["never", "always rejects"],
  ],
};

describe("the mode spec: real pipelines and the simulator play the same scripts", () => {
  it.each(["fast", "standard", "deep"] as const)("%s: the simulator's baseline plays only agent sequences the real pipeline plays, and every real one is playable in the simulator", async (mode) => {
    const real = new Set<string>();
    for (const [rightFrom, reviewer] of EVIDENCE[mode]) real.add(await realSequence(mode, rightFrom, reviewer));
    const simulated = await simulatedSequences(mode, 2000);
    for (const sequence of simulated) expect([...real]).toContain(sequence);
    for (const sequence of real) expect(await playableInSimulator(mode, sequence)).toBe(true);
  }, 300_000);

  it("standard runs the Tester before the Coder, and deep ends with the hybrid, the Reviewer and the guided fix", async () => {
    expect(await realSequence("standard", "Coder", "accepts right code")).toBe("Planner Tester Coder");
    const coders = Array(DEFAULT_SETTINGS.trajectories).fill("Coder").join(" ");
    expect(await realSequence("deep", "never", "always rejects")).toBe(`Planner Tester ${coders} Debugger Debugger Coder Reviewer Debugger`);
  }, 120_000);
});
