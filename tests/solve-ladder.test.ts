import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../agents/agent.js";
import type { Mode } from "../policy/actions.js";
import { MODE_SPECS, nextScriptedAgent, SCRIPT_DEFAULTS } from "../policy/mode-spec.js";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { resumePoint } from "../src/orchestrator/engine/team-episode.js";
import type { SolveReport } from "../src/orchestrator/solve/solve-session.js";
import { expectContractDocument } from "./helpers/json-contract.js";
import { openStore } from "../src/store/index.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { PYTHON_BUG, pythonRepo, type FixtureRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ReceivedChat, ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir } from "./fixtures/team-workdir.js";

// `koderz solve --mode auto --ladder ...`: the built binary, a scripted server playing the team
// (its answers are fixtures, never a model's result), the repository's tests in a
// koderz-workspace container. On the cheap rung the local Qwen Coder makes a wrong edit that
// fails the tests; kimi-k2, the ladder's second rung, finishes from there.

const CHEAP = "qwen3-coder:30b";
const STRONG = "kimi-k2-0905-preview";
/** The cheap Coder's edit: splits on double spaces, which fails both tests. */
const WRONG = '    return len(text.split("  "))';

let server: ScriptedModelServer;
let workDir: string;
let repo: FixtureRepo;
let policy: string;
/** The same policy, told to climb at every rung's end that allows it, and never to. */
let climbing: string;
let staying: string;
const env = { MOONSHOT_API_KEY: "test-key" };

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-solve-ladder-" }));
  repo = pythonRepo();
  policy = path.join(workDir, "policy.json");
  const trained = await koderz(["train-meta", "--episodes", "20", "--eval-episodes", "10", "--checkpoint-every", "0", "--out", policy], { cwd: workDir, env });
  expect(trained.exitCode, trained.stderr).toBe(0);
  // Whether to climb is the policy's decision: an escalation threshold of 0 always escalates, 1 never does (a 20-episode network is never certain).
  const withThreshold = (threshold: number, name: string): string => {
    const file = JSON.parse(readFileSync(policy, "utf8")) as { training: Record<string, unknown> };
    file.training.escalationThreshold = threshold;
    writeFileSync(path.join(workDir, name), JSON.stringify(file));
    return path.join(workDir, name);
  };
  climbing = withThreshold(0, "climbing.json");
  staying = withThreshold(1, "staying.json");
}, 300_000);

afterAll(async () => {
  await server?.close();
});

const roleOf = (chat: ReceivedChat) => /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];

/** Every agent but the cheap Coder and Debugger answers as a competent team; the cheap Coder's edit fails the tests, and kimi-k2's Coder fixes it. */
function scriptCheapRungWrong(): void {
  const strongTeam = teamScript({ fix: { file: PYTHON_BUG.file, search: WRONG, replace: PYTHON_BUG.fix.replace } });
  server.reset();
  server.setScript((chat, index) => {
    if (chat.model !== CHEAP) return strongTeam.script(chat, index);
    const role = roleOf(chat);
    const turn = chat.messages.filter((m) => m.role === "assistant").length;
    if (role === "Coder" && turn === 0) return { toolCalls: [{ id: "wrong_edit", name: "edit", arguments: { path: PYTHON_BUG.file, search: PYTHON_BUG.fix.search, replace: WRONG } }] };
    return { text: role === "Coder" ? "Split on double spaces; done." : "Nothing to change." };
  });
}

const ladderArgs = (policyFile: string): string[] =>
  ["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "auto", "--policy", policyFile, "--ladder", `Coder=ollama:${CHEAP},kimi-k2`, "--fail-to-pass", PYTHON_BUG.failingTest, "--pass-to-pass", PYTHON_BUG.passingTest, "--json"];

describe("koderz solve --mode auto --ladder", () => {
  it("escalates when the cheap rung leaves the tests failing, and the stronger Coder starts from that change and its failures", async () => {
    // Every agent but the cheap Coder and Debugger answers as a competent team; kimi-k2's Coder fixes the cheap rung's edit.
    scriptCheapRungWrong();
    const args = ladderArgs(climbing);
    const result = await koderz(args, { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("escalating to Coder=kimi-k2");
    const report = JSON.parse(result.stdout) as SolveReport;
    expectContractDocument("solve", report);
    expect(report.success).toBe(true);
    expect(report.ladder).toMatchObject({ rungs: `Coder: ollama:${CHEAP} > kimi-k2`, escalations: 1 });
    const [cheapRung, strongRung] = report.ladder!.climbed;
    expect(cheapRung).toMatchObject({ rung: 1, model: `ollama:${CHEAP}`, tests: "failed" });
    expect(strongRung).toMatchObject({ rung: 2, model: "kimi-k2" });
    expect(cheapRung!.tokens).toBeGreaterThan(0);
    expect(strongRung!.costUsd).toBeGreaterThan(0);
    expect(readFileSync(path.resolve(workDir, report.diffPath), "utf8")).toContain(`+${PYTHON_BUG.fix.replace}`);

    // The work is kept: kimi-k2's first Coder prompt holds the cheap rung's change and its failing tests.
    const coderChats = server.chatRequests.filter((chat) => roleOf(chat) === "Coder" && chat.messages.filter((m) => m.role === "assistant").length === 0);
    expect(coderChats.map((chat) => chat.model)).toEqual([CHEAP, STRONG]);
    expect(coderChats[0]!.prompt).not.toContain("The best attempt so far");
    expect(coderChats[1]!.prompt).toContain("The best attempt so far");
    expect(coderChats[1]!.prompt).toContain(`+${WRONG}`);
    expect(coderChats[1]!.prompt).toMatch(/failed \(exit 1\)/);
    expect(coderChats[1]!.prompt).toContain("test_counts_simple_words");

    const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
    try {
      expect(store.getRun(report.runId).config).toMatchObject({ mode: "auto", ladder: { kind: "models", agent: "Coder", models: [`ollama:${CHEAP}`, "kimi-k2"] } });
      const experiment = store.getExperiment(report.experimentId)!;
      expect(experiment.tags).toEqual(expect.arrayContaining(["escalations:1", `chosen_mode:${report.mode}`]));
      const steps = store.steps(report.experimentId);
      expect(steps.find((step) => step.action === "escalate")).toMatchObject({ agent: "koderz", prompt: "rung 2 of 2: Coder=kimi-k2" });
      expect(steps.filter((step) => step.agent === "Coder" && step.model).map((step) => step.model).at(-1)).toBe("kimi-k2");
    } finally {
      store.close();
    }
  }, 300_000);

  it("climbs only when the policy says so: a policy that stops keeps the cheap rung's failing change and pays for no dearer rung", async () => {
    scriptCheapRungWrong();
    const result = await koderz(ladderArgs(staying), { cwd: workDir, env });
    // Unresolved: exit 1, with the report.
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain("the policy stops on rung 1");
    const report = JSON.parse(result.stdout) as SolveReport;
    expectContractDocument("solve", report);
    expect(report.success).toBe(false);
    expect(report.ladder).toMatchObject({ escalations: 0 });
    expect(report.ladder!.climbed).toHaveLength(1);
    expect(server.chatRequests.filter((chat) => chat.model === STRONG && roleOf(chat) === "Coder")).toHaveLength(0);
  }, 300_000);

  it.each([
    [["--ladder", "fast,turbo"], '"turbo" is not a mode'],
    [["--ladder", "Chef=kimi-k2,ollama:qwen3-coder:30b"], '"Chef" is not an agent'],
    [["--ladder", "fast,,deep"], "rung 2 is empty"],
    [["--mode", "standard", "--ladder", "fast,deep"], "--ladder is the ladder --mode auto"],
  ])("refuses %j with one usage error that says what is wrong and how to fix it, before any model or container", async (flags, what) => {
    server.reset();
    const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "auto", "--policy", policy, ...flags], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(what);
    expect(result.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(result.stderr).toContain("fix: ");
    expect(result.stderr).not.toContain("copying");
    expect(server.requests).toHaveLength(0);
  });
});

describe("which agents an escalated rung runs (while the tests keep failing)", () => {
  /** The agents a rung of `mode` runs after an escalation to `first`, when `worked` already worked on cheaper rungs. */
  function rungAgents(mode: Mode, first: Agent, worked: Agent[]): Agent[] {
    const { script } = MODE_SPECS.repository[mode];
    const ran = resumePoint(script, first, new Set(worked), SCRIPT_DEFAULTS);
    const prefix = ran.length;
    const evidence = { failing: true, rejected: false, failingTestNamed: false, drafts: 0 };
    for (let next = nextScriptedAgent(script, ran, evidence, SCRIPT_DEFAULTS); next !== "Stop"; next = nextScriptedAgent(script, ran, evidence, SCRIPT_DEFAULTS)) ran.push(next);
    return ran.slice(prefix);
  }

  it("on a ladder of modes, a deeper mode plans when no cheaper rung did, and never repeats a plan or reproduction it has", () => {
    // fast -> standard: the Planner and the Tester have not worked yet, so they do.
    expect(rungAgents("standard", "Coder", ["Coder"])).toEqual(["Planner", "Tester", "Coder", "Debugger", "Debugger"]);
    // standard -> deep: the plan and the reproduction tests are kept; deep goes on from its Coder to its Reviewer.
    expect(rungAgents("deep", "Coder", ["Planner", "Tester", "Coder", "Debugger"])).toEqual(["Coder", "Debugger", "Debugger", "Debugger", "Reviewer"]);
  });

  it("on a ladder of models, the rung starts at its agent: a stronger Debugger gets the failing change, a stronger Reviewer judges it", () => {
    expect(rungAgents("standard", "Debugger", ["Planner", "Coder", "Debugger"])).toEqual(["Debugger", "Debugger"]);
    expect(rungAgents("deep", "Reviewer", ["Planner", "Coder", "Debugger"])).toEqual(["Reviewer"]);
  });
});
