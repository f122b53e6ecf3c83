import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENTS, type Agent } from "../agents/agent.js";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { openSandbox } from "../sandbox/select.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { Workspace } from "../sandbox/workspace.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { publicView, type Task } from "../tasks/task.js";
import { loadSuite } from "../tasks/load.js";
import { hiddenVerdict } from "../src/evaluation/hidden-verdict.js";
import { createBackend } from "../src/llm/index.js";
import type { ModelBackend } from "../src/llm/types.js";
import { climbLadder, type LadderPlan } from "../src/orchestrator/engine/ladder-climb.js";
import { OrchestratorEpisodeRunner } from "../src/orchestrator/episode-runner.js";
import type { Ladder } from "../src/orchestrator/ladder.js";
import { DEFAULT_SETTINGS } from "../src/orchestrator/pipeline.js";
import { functionEpisode, FUNCTION_CLIMB } from "../src/orchestrator/pipelines/function-task.js";
import { repositoryClimb, repositoryEpisode, solveOutcome } from "../src/orchestrator/solve/repository-task.js";
import { repositoryMap } from "../src/orchestrator/solve/repo-map.js";
import { SolveTrajectory } from "../src/orchestrator/solve/solve-trajectory.js";
import { givenTestCommand } from "../src/orchestrator/solve/test-command.js";
import { WorkspaceTests } from "../src/orchestrator/solve/workspace-tests.js";
import { Trajectory, type StepDraft } from "../src/orchestrator/trajectory.js";
import { LiveEnvironment } from "../training/live-environment.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { PYTHON_BUG, pythonRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import { startScriptedModelServer, type ReceivedChat, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

/**
 * One episode engine for both products: the same climb (engine/ladder-climb.ts climbLadder) over
 * the same agent steps plays a HumanEval task (the function-task plug-in: visible tests in the
 * sandbox, the hidden tests grade) and an issue on a repository (the repository plug-in: a
 * koderz-workspace container, the repository's tests). The scripted model server plays the team
 * (its answers are fixtures, never a model's result): on the ladder's cheap rung the Coder is
 * wrong, on the strong rung right, so both episodes must escalate once and end solved.
 */
const CHEAP = "qwen3-coder:30b";
const STRONG = "kimi-k2-0905-preview";
const LADDER: Ladder = { kind: "models", agent: "Coder", models: [CHEAP, STRONG] };
/** The cheap repository Coder's edit: splits on double spaces, which fails both tests. */
const WRONG = '    return len(text.split("  "))';

let server: ScriptedModelServer;
let sandbox: Sandbox;
let task: Task;

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  task = (await loadSuite({ suite: "humaneval", dataset: humanEvalFile })).find((t) => t.id === "HumanEval/2")!;
  server = await startScriptedModelServer({ models: [CHEAP, STRONG] });
  sandbox = await openSandbox("process", { onNotice: () => undefined });
}, 300_000);

afterAll(async () => {
  await sandbox?.close();
  await server?.close();
});

function backend(model: string): ModelBackend {
  return createBackend(`openai-compatible:${model}@${server.openaiBaseUrl}`);
}

/** The name a model goes by on the ladder, from the backend id a step records. */
const nameOf = (id: string) => [CHEAP, STRONG].find((name) => id === backend(name).model) ?? id;

/** Every agent on the cheap model; the ladder gives the Coder the strong one on its second rung. */
function cheapTeam(): Record<Agent, ModelBackend> {
  const cheap = backend(CHEAP);
  return Object.fromEntries(AGENTS.map((agent) => [agent, cheap])) as Record<Agent, ModelBackend>;
}

/** The same plan for both products: start in fast, climb while the rung's checks fail (the cascade: no policy). */
function plan(logs: string[]): LadderPlan {
  return { ladder: LADDER, startMode: "fast", backend, log: (message) => logs.push(message) };
}

const roleOf = (chat: ReceivedChat) => /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
/** A step as a user reads it in a trace: who, what, and on which model. */
const traced = (step: StepDraft) => `${step.agent}:${step.action}${step.model ? `@${nameOf(step.model)}` : ""}`;

describe("one engine serving a benchmark episode and a solve ladder", () => {
  it("a HumanEval task: the cheap Coder's candidate fails its visible tests, the strong Coder starts from it, and the hidden tests pass", async () => {
    server.reset();
    const wrong = codingTeamScript([task], { wrongFirst: new Set([task.id]) });
    const right = codingTeamScript([task], { wrongFirst: new Set() });
    server.setScript((chat, index) => (chat.model === CHEAP ? wrong(chat, index) : right(chat, index)));
    const trajectory = new Trajectory();
    const episode = functionEpisode({ task: publicView(task), models: cheapTeam(), sandbox, trajectory, settings: DEFAULT_SETTINGS }, "fast");
    const logs: string[] = [];

    const climb = await climbLadder(episode, FUNCTION_CLIMB, plan(logs));

    expect(trajectory.steps.map(traced)).toEqual([`Coder:model@${CHEAP}`, "koderz:escalate", `Coder:model@${STRONG}`]);
    expect(trajectory.steps.map((step) => step.visiblePassFraction)).toEqual([0, undefined, 1]);
    expect(climb.escalations).toBe(1);
    expect(climb.rungs).toMatchObject([
      { rung: 1, mode: "fast", agent: "Coder", model: CHEAP, tests: "failed" },
      { rung: 2, mode: "fast", agent: "Coder", model: STRONG },
    ]);
    expect(logs.join("\n")).toContain(`rung 1 (Coder=${CHEAP}) ended with the visible tests failing`);
    // The strong Coder was shown the cheap rung's candidate and its failures.
    const coderPrompts = server.chatRequests.filter((chat) => roleOf(chat) === "Coder").map((chat) => chat.prompt);
    expect(coderPrompts).toHaveLength(2);
    expect(coderPrompts[1]).toContain("The best attempt so far");
    expect(coderPrompts[1]).toContain("return None");
    // The grader's verdict on the candidate the episode hands in.
    expect(episode.work.iterations).toBe(2);
    expect((await hiddenVerdict(sandbox, task, episode.work.best!.completion)).passed).toBe(true);
  }, 300_000);

  it("a repository issue: the cheap Coder's edit fails the repository's tests, the strong Coder fixes it in the same workspace, and the tests pass", async () => {
    server.reset();
    const strongTeam = teamScript({ fix: { file: PYTHON_BUG.file, search: WRONG, replace: PYTHON_BUG.fix.replace } });
    server.setScript((chat, index) => {
      if (chat.model !== CHEAP) return strongTeam.script(chat, index);
      const first = chat.messages.filter((m) => m.role === "assistant").length === 0;
      if (roleOf(chat) === "Coder" && first) return { toolCalls: [{ id: "wrong_edit", name: "edit", arguments: { path: PYTHON_BUG.file, search: PYTHON_BUG.fix.search, replace: WRONG } }] };
      return { text: "Split on double spaces; done." };
    });
    const repo = pythonRepo();
    const workspace = await Workspace.open({ repoPath: repo.dir, commit: repo.commit, image: WORKSPACE_IMAGE, network: false });
    try {
      const test = givenTestCommand("python3 -m pytest -q");
      const tests = new WorkspaceTests(workspace, test, 120);
      const trajectory = new SolveTrajectory();
      const context = {
        issue: { title: "word_count is wrong with double spaces", issueText: "word_count counts empty words", knownFailingTests: [PYTHON_BUG.failingTest], testCommand: test.command },
        repoMap: await repositoryMap(workspace),
        models: cheapTeam(),
        tools: { workspace, runTests: (ids?: string[]) => tests.run(ids) },
        trajectory,
        check: () => tests.run(),
        diff: () => workspace.diff(),
        debugRounds: DEFAULT_SETTINGS.debugRounds,
      };
      const episode = repositoryEpisode(context, "fast");
      const logs: string[] = [];

      const climb = await climbLadder(episode, repositoryClimb(context), plan(logs));

      // The cheap rung: its Coder's model turns and edit, then koderz's own test run (failing), then the climb; the strong Coder's work follows.
      const steps = trajectory.steps.map(traced);
      expect(steps.slice(0, 5)).toEqual([`Coder:model@${CHEAP}`, "Coder:edit", `Coder:model@${CHEAP}`, "koderz:run_tests", "koderz:escalate"]);
      expect(trajectory.steps[3]).toMatchObject({ response: "failed" });
      expect(steps.slice(5).filter((step) => step.includes("model@"))).toEqual(Array(4).fill(`Coder:model@${STRONG}`));
      expect(steps.slice(5)).toContain("Coder:edit");
      expect(climb.escalations).toBe(1);
      expect(climb.rungs).toMatchObject([
        { rung: 1, mode: "fast", agent: "Coder", model: CHEAP, tests: "failed" },
        { rung: 2, mode: "fast", agent: "Coder", model: STRONG },
      ]);
      expect(logs.join("\n")).toContain(`rung 1 (Coder=${CHEAP}) ended with the tests failing (exit 1)`);
      // The strong Coder was shown the cheap rung's change and its failing test run.
      const strongCoder = server.chatRequests.find((chat) => chat.model === STRONG && roleOf(chat) === "Coder")!;
      expect(strongCoder.prompt).toContain("The best attempt so far");
      expect(strongCoder.prompt).toContain(`+${WRONG}`);
      expect(strongCoder.prompt).toMatch(/failed \(exit 1\)/);
      // The verdict: the workspace's change, and the repository's tests on it.
      expect(solveOutcome(episode.work).iterations).toBe(2);
      expect(await workspace.diff()).toContain(`+${PYTHON_BUG.fix.replace}`);
      expect((await tests.run()).passed).toBe(true);
    } finally {
      await workspace.close();
    }
  }, 300_000);

  it("a live benchmark episode (the policy picks each agent) climbs through the same escalation: the deeper rung resumes its script at its Coder", async () => {
    server.reset();
    server.setScript(codingTeamScript([task], { wrongFirst: new Set([task.id]) }));
    const runner = new OrchestratorEpisodeRunner({ models: cheapTeam(), sandbox, settings: { ...DEFAULT_SETTINGS, trajectories: 2 }, ladder: { ladder: { kind: "modes", modes: ["fast", "deep"] }, backend } });
    const environment = new LiveEnvironment({ tasks: [task], runner });
    await environment.reset();
    expect((await environment.step({ kind: "mode", mode: "fast" })).state.allowed).toMatchObject({ pipelineAgent: "Coder" });
    const cheap = await environment.step({ kind: "agent", agent: "Coder" });
    // fast's script is over; the policy may stop or climb.
    expect(cheap.state.allowed).toMatchObject({ agents: ["Coder", "Debugger", "Stop", "Escalate"], pipelineAgent: "Stop" });
    const climbed = await environment.step({ kind: "agent", agent: "Escalate" });
    expect(climbed.info.agent).toBe("Coder");
    expect(climbed.state.episode).toMatchObject({ mode: "deep", rung: 1, visiblePassFraction: 0 });
    // Deep's script goes on from its drafts (the Planner and the Tester never worked, but the Coder's drafts are in hand): the Debugger, while they fail.
    expect(climbed.state.allowed).toMatchObject({ pipelineAgent: "Debugger" });
    expect((await environment.step({ kind: "agent", agent: "Debugger" })).state.episode.visiblePassFraction).toBe(1);
    const graded = await environment.step({ kind: "agent", agent: "Stop" });
    expect(graded.info.outcome).toMatchObject({ success: true, escalations: 1, mode: "deep", agents: ["Coder", "Coder", "Debugger"] });
  }, 300_000);
});
