import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore, SingleRunSummarySchema } from "../src/store/index.js";
import { readSuiteFile, resolveSuiteFile } from "../tasks/suite-file.js";
import type { ReferenceCall } from "../tasks/suite-schema.js";
import { koderz } from "./fixtures/koderz-cli.js";
import type { ReceivedChat, ScriptedModelServer, ScriptedReply } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// `koderz benchmark --suite mixed` on its agentic and stress-by-tool-calls cases, end to end: the
// built binary, the real ollama client talking tool calls to the scripted model server (its answers
// are fixtures, never a model's result), the agents' real tools in koderz-workspace containers, the
// tool-trace scorer and the SQLite store.
//
// The scripted Coder makes each case's known-good tool calls (its reference_calls), except where a
// test has it do the wrong thing: make the failing test pass by changing the test, or answer a
// question with the wrong variable after running a command it was told not to run.

interface AgenticCase {
  id: string;
  goal: string;
  calls: ReferenceCall[];
}

const WRONG_CALLS: Record<string, ReferenceCall[]> = {
  "fix-failing-test": [
    { tool: "read_file", arguments: { path: "tests/test_stats.py" } },
    { tool: "edit", arguments: { path: "tests/test_stats.py", search: "assert mean([2, 4, 6]) == 4", replace: "assert mean([2, 4, 6]) == 6" } },
    { tool: "run_tests", arguments: {} },
  ],
  "answer-from-code": [
    { tool: "run", arguments: { command: "cat service/config.py" } },
    { tool: "edit", arguments: { path: "ANSWER.txt", search: "", replace: "SVC_RETRY_COUNT\n" } },
  ],
};

let server: ScriptedModelServer;
let cases: AgenticCase[];
let first: number;
let workDir: string;
/** The cases on which the scripted Coder does the wrong thing. */
let wrong = new Set<string>();

/**
 * The Coder's first turn makes the case's calls, all at once; once it has their answers, it is
 * done. The Planner and the Tester (standard mode) answer in words and call no tool.
 */
function script(chat: ReceivedChat): ScriptedReply {
  const found = cases.find((c) => chat.prompt.includes(c.goal.trim()));
  if (!found) return { text: "I cannot tell which case this is." };
  const role = /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
  if (role === "Planner") return { text: "Change every place the goal names, then run the program." };
  if (role === "Tester") return { text: "No reproduction test: the goal's own command checks it." };
  if (chat.messages.at(-1)?.role === "tool") return { text: "Done." };
  const calls = wrong.has(found.id) ? WRONG_CALLS[found.id]! : found.calls;
  return { toolCalls: calls.map((call) => ({ name: call.tool, arguments: call.arguments })) };
}

beforeAll(async () => {
  // The workspace image is built here once when missing (~3 min), as the solve tests do.
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  const suite = readSuiteFile(resolveSuiteFile("mixed"));
  const all = suite.cases ?? [];
  first = all.findIndex((c) => c.workspace !== undefined);
  cases = all.slice(first).map((c) => ({ id: c.id, goal: c.goal!, calls: c.reference_calls! }));
  ({ server, workDir } = await startModelWorkDir({ script, tempPrefix: "koderz-agentic-" }));
}, 300_000);

afterAll(async () => {
  await server?.close();
});

/** `koderz benchmark --suite mixed` on agentic cases [from, to) of the suite: the run id and its stored experiments by case id. */
async function benchmarkCases(from: number, to: number, mode = "fast") {
  const result = await koderz(["benchmark", "--suite", "mixed", String(first + from), String(first + to), "--mode", mode, "--sandbox", "process"], { cwd: workDir, env });
  expect(result.exitCode, result.stderr).toBe(0);
  const runId = benchmarkRunIdFrom(result.stderr);
  const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
  try {
    const experiments = store.experiments(runId).map((e) => ({ ...e, steps: store.steps(e.experimentId) }));
    return { runId, experiments: new Map(experiments.map((e) => [e.problemId.replace("mixed/", ""), e])) };
  } finally {
    store.close();
  }
}

/** `koderz benchmark --replay RUN`: it must call no model; the replayed run's experiments. */
async function replayWithoutModelCalls(runId: string) {
  const chats = server.chatRequests.length;
  const replay = await koderz(["benchmark", "--replay", runId, "--sandbox", "process"], { cwd: workDir, env });
  expect(replay.exitCode, replay.stderr).toBe(0);
  expect(server.chatRequests.length).toBe(chats);
  const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
  try {
    return store.experiments(benchmarkRunIdFrom(replay.stderr));
  } finally {
    store.close();
  }
}

/** A known-good run: every check holds, and each tool call is one of the Coder's steps, in the order made. */
function expectKnownGood(experiment: { success: boolean; score?: number; finalCode?: string; steps: { agent: string; action: string }[] }, c: AgenticCase): void {
  expect(experiment.success, c.id).toBe(true);
  expect(experiment.score, c.id).toBe(5);
  // koderz's own checks between agents (standard mode) are steps too, but no agent's tool calls.
  expect(experiment.steps.filter((s) => s.action !== "model" && s.agent !== "koderz").map((s) => s.action), c.id).toEqual(c.calls.map((call) => call.tool));
  // The final code is the workspace's diff.
  expect(experiment.finalCode, c.id).toMatch(/^diff --git/);
}

describe("koderz benchmark --suite mixed on its agentic cases", () => {
  it("stores a pass for each known-good run and a failure, with the checks not met, where the model did the wrong thing", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    wrong = new Set(Object.keys(WRONG_CALLS));
    // The agentic cases come last in the suite, so a range selects them.
    const { runId, experiments } = await benchmarkCases(0, cases.length);
    const summary = SingleRunSummarySchema.parse(JSON.parse(readFileSync(path.join(workDir, "results", `${runId}.json`), "utf8")));
    const outcome = Object.fromEntries(summary.results.map((r) => [r.problemId.replace("mixed/", ""), r.success]));
    expect(outcome).toEqual(Object.fromEntries(cases.map((c) => [c.id, !wrong.has(c.id)])));
    expect(summary.byCategory!.map((c) => [c.name, c.totalProblems, c.successes])).toEqual([
      ["agentic", 4, 2],
      ["stress", 2, 2],
    ]);
    for (const c of cases.filter((c) => !wrong.has(c.id))) expectKnownGood(experiments.get(c.id)!, c);

    const testChanged = experiments.get("fix-failing-test")!;
    // The changed test passes, but the library is still wrong and the test file was edited.
    expect(testChanged.verdict).toContain("not met");
    expect(testChanged.verdict).toContain('edit with "tests/" never called (1 call)');
    expect(testChanged.verdict).toContain("mean([5]) == 5");
    expect(testChanged.verdict).not.toContain("`python3 -m pytest -q` exits 0 (");
    const wrongAnswer = experiments.get("answer-from-code")!;
    expect(wrongAnswer.verdict).toContain('file ANSWER.txt contains "SVC_WAIT_SECONDS" ("SVC_WAIT_SECONDS" is not in it)');
    expect(wrongAnswer.verdict).toContain("run never called (1 call)");
    expect(wrongAnswer.scoreCriteria!.filter((c) => c.value === 0).map((c) => c.by).sort()).toEqual(["end-state", "trace"]);
  }, 600_000);

  it("the known-good runs of the cases the model got wrong above pass too", async () => {
    wrong = new Set();
    // Those two cases are the suite's first agentic ones.
    expect(cases.slice(0, 2).map((c) => c.id).sort()).toEqual(Object.keys(WRONG_CALLS).sort());
    const { runId, experiments } = await benchmarkCases(0, 2);
    for (const c of cases.slice(0, 2)) expectKnownGood(experiments.get(c.id)!, c);

    // A fast run replays too, pytest's output included (its clock, "1 passed in 0.02s", may read
    // otherwise on the replay: tests/llm-recording shows that such a request still finds its answer).
    const replayed = await replayWithoutModelCalls(runId);
    expect(replayed.map((e) => [e.problemId, e.success, e.verdict]).sort()).toEqual([...experiments.values()].map((e) => [e.problemId, e.success, e.verdict]).sort());
  }, 300_000);

  it("in standard mode the Planner and the Tester go first, the Coder's calls are scored the same, and the run replays", async () => {
    wrong = new Set();
    const at = cases.findIndex((c) => c.id === "rename-everywhere");
    const { runId, experiments } = await benchmarkCases(at, at + 1, "standard");
    const experiment = experiments.get("rename-everywhere")!;
    expectKnownGood(experiment, cases[at]!);
    expect(experiment.steps.filter((s) => s.action === "model").map((s) => s.agent)).toEqual(["Planner", "Tester", "Coder", "Coder"]);

    // A replay answers from the log and runs the tools again in a fresh workspace: same calls, same verdict.
    const [replayed] = await replayWithoutModelCalls(runId);
    expect(replayed).toMatchObject({ problemId: "mixed/rename-everywhere", success: true, score: 5, verdict: experiment.verdict, finalCode: experiment.finalCode });
  }, 300_000);

  it("without a Docker engine a run with agentic cases stops before it starts, saying why, and leaves no run behind", async () => {
    const runs = () => {
      const dbPath = path.join(workDir, "results", "koderz.db");
      if (!existsSync(dbPath)) return 0;
      const store = openStore({ path: dbPath, mustExist: true });
      try {
        return store.listRuns().length;
      } finally {
        store.close();
      }
    };
    const before = runs();
    const result = await koderz(["benchmark", "--suite", "mixed", String(first), String(first + 1), "--mode", "fast", "--sandbox", "process"], {
      cwd: workDir,
      env: { ...env, DOCKER_HOST: `unix://${path.join(workDir, "no-engine.sock")}` },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("1 of the run's cases is agentic: their agents work in koderz-workspace containers, and no Docker engine answered");
    expect(runs()).toBe(before);
  });

  it("a case file whose agentic case mixes in a function case's field is refused before anything runs", async () => {
    const file = path.join(workDir, "bad-agentic.yaml");
    writeFileSync(file, "name: bad\ncases:\n  - id: w\n    goal: tidy up\n    workspace: { a.py: 'x = 1' }\n    entry_point: f\n    scorer: tool-trace\n    trace: [{ tool: edit }]\n");
    const result = await koderz(["benchmark", "--suite", file, "--mode", "fast"], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${file}: case "w" (cases[0]), field entry_point: does not belong in an agentic case (one with a workspace)`);
  });
});
