import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore } from "../src/store/index.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { javascriptRepo, JS_BUG, PYTHON_BUG, pythonRepo, type FixtureRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript, type TeamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// `koderz solve --repo ... --issue ...` end to end: the built binary, the real openai and ollama
// clients (Planner and Reviewer on kimi-k2, the others on a local Qwen) talking tool calls to a
// scripted server, the repository's tests in a koderz-workspace container, the SQLite store.

let server: ScriptedModelServer;
let workDir: string;

beforeAll(async () => {
  // CI builds only the sandbox image; the workspace image is built here once when missing (~3 min).
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-solve-" }));
}, 300_000);

afterAll(async () => {
  await server?.close();
});

function useTeam(team: TeamScript): TeamScript {
  server.reset();
  server.setScript(team.script);
  return team;
}

function runIdFrom(stderr: string): string {
  const match = /run (solve_[0-9a-f]{8}_\d{8}_\d{6})/.exec(stderr);
  if (!match) throw new Error(`no run id in stderr:\n${stderr}`);
  return match[1]!;
}

/** Everything a user would notice changing in their repository: files, HEAD, branches, index. */
async function repoState(repo: FixtureRepo) {
  const git = async (...args: string[]) => (await execa("git", args, { cwd: repo.dir })).stdout;
  return {
    head: await git("rev-parse", "HEAD"),
    branch: await git("rev-parse", "--abbrev-ref", "HEAD"),
    status: await git("status", "--porcelain", "--untracked-files=all"),
    branches: await git("branch", "--list"),
    buggyFile: readFileSync(path.join(repo.dir, repo.buggyFile), "utf8"),
  };
}

/** Applies a patch to a fresh copy of the base commit and runs the tests there, in the workspace image. */
async function testsPassWithPatch(repo: FixtureRepo, diffPath: string, command: string): Promise<{ exitCode: number; output: string }> {
  const copy = path.join(mkdtempSync(path.join(tmpdir(), "koderz-check-")), "repo");
  await execa("git", ["clone", "-q", repo.dir, copy]);
  copyFileSync(diffPath, path.join(copy, "fix.diff"));
  await execa("git", ["apply", "fix.diff"], { cwd: copy });
  const run = await execa("docker", ["run", "--rm", "--network", "none", "-v", `${copy}:/w`, "-w", "/w", WORKSPACE_IMAGE, "sh", "-c", command], { reject: false, all: true });
  return { exitCode: run.exitCode ?? -1, output: String(run.all) };
}

function storeAt() {
  return openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
}

describe("koderz solve on a Python package with a failing test", () => {
  let repo: FixtureRepo;

  beforeAll(() => {
    repo = pythonRepo();
  });

  it("writes a patch that makes the failing test pass, records every tool call, and leaves the repository alone", async () => {
    const before = await repoState(repo);
    const team = useTeam(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }));
    const started = performance.now();
    const result = await koderz(
      ["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "standard", "--fail-to-pass", PYTHON_BUG.failingTest, "--pass-to-pass", PYTHON_BUG.passingTest],
      { cwd: workDir, env },
    );
    const seconds = (performance.now() - started) / 1000;
    expect(result.exitCode, result.stderr).toBe(0);
    const runId = runIdFrom(result.stderr);
    expect(result.stdout).toContain("solved");
    expect(result.stdout).toContain("FAIL_TO_PASS   1/1 now passing");
    expect(result.stdout).toContain("PASS_TO_PASS   1/1 still passing");
    expect(result.stdout).toContain(PYTHON_BUG.file);

    const diffPath = path.join(workDir, "results", `${runId}.diff`);
    const diff = readFileSync(diffPath, "utf8");
    expect(diff).toContain(`+${PYTHON_BUG.fix.replace}`);
    const check = await testsPassWithPatch(repo, diffPath, `python3 -m pytest -q ${PYTHON_BUG.failingTest}`);
    expect(check.exitCode, check.output).toBe(0);

    const store = storeAt();
    try {
      const run = store.getRun(runId);
      expect(run.kind).toBe("solve");
      expect(run.status).toBe("finished");
      const [experiment] = store.experiments(runId);
      expect(experiment!.success).toBe(true);
      expect(experiment!.finalCode).toBe(diff);
      const steps = store.steps(experiment!.experimentId);
      const toolSteps = steps.filter((s) => s.agent !== "koderz" && s.action !== "model");
      // Every tool call the model made is a step, in order, under its agent and the tool as its action.
      expect(toolSteps.map((s) => `${s.agent}:${s.action}`)).toEqual(team.issued.map((c) => `${c.role}:${c.name}`));
      expect(steps.filter((s) => s.model).map((s) => s.agent)).toEqual(["Planner", "Planner", "Coder", "Coder", "Coder", "Coder"]);
      expect(steps.find((s) => s.agent === "Planner")!.model).toBe("kimi-k2");
      expect(steps.find((s) => s.agent === "Coder")!.model).toBe("ollama:qwen3-coder:30b");
      expect(store.modelCalls({ runId })).toHaveLength(server.chatRequests.length);
    } finally {
      store.close();
    }
    expect(await repoState(repo)).toEqual(before);
    const listed = await koderz(["results", "list", "--kind", "solve"], { cwd: workDir, env });
    expect(listed.stdout).toContain(runId);
    console.log(`python standard solve: ${team.issued.length} tool calls, ${server.chatRequests.length} model calls, ${seconds.toFixed(1)} s`);
  });

  it("with --apply, commits the patch on a new branch and leaves the checkout as it was", async () => {
    const before = await repoState(repo);
    useTeam(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }));
    const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "fast", "--fail-to-pass", PYTHON_BUG.failingTest, "--apply"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const runId = runIdFrom(result.stderr);
    const branch = `koderz/${runId}`;
    expect(result.stdout).toContain(`branch ${branch}`);

    const git = async (...args: string[]) => (await execa("git", args, { cwd: repo.dir })).stdout;
    expect(await git("rev-list", "--count", `${before.head}..${branch}`)).toBe("1");
    expect(await git("rev-parse", `${branch}~1`)).toBe(before.head);
    expect(await git("diff", before.head, branch)).toContain(`+${PYTHON_BUG.fix.replace}`);
    const after = await repoState(repo);
    expect(after.head).toBe(before.head);
    expect(after.branch).toBe("main");
    expect(after.status).toBe("");
    expect(after.buggyFile).toBe(before.buggyFile);
    expect(after.branches).toContain(branch);
    expect(await git("worktree", "list")).not.toContain("koderz-apply");
  });

  it("sends bad tool calls back to the model as errors and carries on", async () => {
    const team = useTeam(
      teamScript({
        fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix },
        coderMistakes: [
          { name: "read_file", rawArguments: '{"path": "wordstats/__init__.py"' },
          { name: "edit", arguments: { path: PYTHON_BUG.file, search: "return len(text.split(',')", replace: "x" } },
          { name: "edit", arguments: { path: "tests/test_words.py", search: "def test_", replace: "def check_" } },
          { name: "read_file", arguments: { path: "../../etc/passwd" } },
          { name: "read_file", arguments: { start_line: 2 } },
          { name: "delete_everything", arguments: {} },
        ],
      }),
    );
    const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "fast", "--fail-to-pass", PYTHON_BUG.failingTest], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const runId = runIdFrom(result.stderr);

    const store = storeAt();
    try {
      const [experiment] = store.experiments(runId);
      expect(experiment!.success).toBe(true);
      const answers = store.steps(experiment!.experimentId).filter((s) => s.agent === "Coder" && s.action !== "model").map((s) => s.response ?? "");
      expect(answers).toHaveLength(team.issued.length);
      expect(answers[0]).toMatch(/^error: the arguments are not valid JSON/);
      expect(answers[1]).toMatch(/^error: the search text is not in wordstats\/__init__\.py/);
      expect(answers[2]).toMatch(/^error: the search text occurs 2 times in tests\/test_words\.py \(at lines 4, 8\)/);
      expect(answers[3]).toMatch(/^error: \.\.\/\.\.\/etc\/passwd is outside the repository/);
      expect(answers[4]).toMatch(/^error: invalid arguments for read_file: path/);
      expect(answers[5]).toMatch(/^error: there is no tool named "delete_everything"/);
    } finally {
      store.close();
    }
    // The model saw each error as the answer to its call, over the Ollama wire format.
    const coderChats = server.chatRequests.filter((c) => c.messages[0]?.content.includes("You are the Coder"));
    const toolAnswers = coderChats.at(-1)!.messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(toolAnswers.slice(0, 6).every((answer) => answer.startsWith("error: "))).toBe(true);
    expect(coderChats[0]!.format).toBe("ollama");
    expect(coderChats[0]!.tools.map((t) => t.name)).toEqual(["list_files", "read_file", "search", "edit", "run_tests", "run"]);
  });
});

describe("koderz solve on a JavaScript package with no test for the issue", () => {
  it("has the Tester reproduce the issue, fixes it, and the Reviewer reads the diff (deep)", async () => {
    const repo = javascriptRepo();
    const before = await repoState(repo);
    const team = useTeam(
      teamScript({
        fix: { file: JS_BUG.file, ...JS_BUG.fix },
        reproduction: { file: JS_BUG.reproductionTest, source: JS_BUG.reproductionSource, id: JS_BUG.reproductionTest },
      }),
    );
    const started = performance.now();
    const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "deep"], { cwd: workDir, env });
    const seconds = (performance.now() - started) / 1000;
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const runId = runIdFrom(result.stderr);
    expect(result.stdout).toContain("`npm test`");
    expect(result.stdout).toContain("review         ACCEPT");

    const diffPath = path.join(workDir, "results", `${runId}.diff`);
    const diff = readFileSync(diffPath, "utf8");
    expect(diff).toContain(`+++ b/${JS_BUG.reproductionTest}`);
    expect(diff).toContain(`+++ b/${JS_BUG.file}`);
    const check = await testsPassWithPatch(repo, diffPath, "npm test");
    expect(check.exitCode, check.output).toBe(0);

    // The reproduction test failed before the fix (the Tester saw it fail), and passes after.
    const store = storeAt();
    try {
      const [experiment] = store.experiments(runId);
      const steps = store.steps(experiment!.experimentId);
      const testerRun = steps.find((s) => s.agent === "Tester" && s.action === "run_tests")!;
      expect(testerRun.response).toContain("FAILED");
      expect(steps.map((s) => s.agent)).toContain("Reviewer");
      const toolSteps = steps.filter((s) => s.agent !== "koderz" && s.action !== "model");
      expect(toolSteps.map((s) => `${s.agent}:${s.action}`)).toEqual(team.issued.map((c) => `${c.role}:${c.name}`));
      const reviewerChat = server.chatRequests.find((c) => c.messages[0]?.content.includes("You are the Reviewer"))!;
      expect(reviewerChat.format).toBe("openai");
      expect(reviewerChat.prompt).toContain(JS_BUG.fix.replace);
    } finally {
      store.close();
    }
    expect(await repoState(repo)).toEqual(before);
    expect(existsSync(path.join(repo.dir, JS_BUG.reproductionTest))).toBe(false);
    console.log(`javascript deep solve: ${team.issued.length} tool calls, ${server.chatRequests.length} model calls, ${seconds.toFixed(1)} s`);
    // Graded as solved only because the Tester's reproduction fails without the fix.
    expect(result.stdout).toContain(`reproduction   ${JS_BUG.reproductionTest}: fails without the change, passes with it`);
  }, 300_000);
});

describe("koderz solve --mode auto", () => {
  it("lets a trained policy choose the mode and records the choice", async () => {
    const repo = pythonRepo();
    const policy = path.join(workDir, "policy.json");
    const trained = await koderz(["train-meta", "--episodes", "20", "--eval-episodes", "10", "--checkpoint-every", "0", "--out", policy], { cwd: workDir, env });
    expect(trained.exitCode, trained.stderr).toBe(0);
    useTeam(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }));
    const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, "--mode", "auto", "--policy", policy, "--fail-to-pass", PYTHON_BUG.failingTest], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const chosen = /auto: the policy chose (fast|standard|deep)/.exec(result.stderr)?.[1];
    expect(chosen).toBeDefined();
    const store = storeAt();
    try {
      const runId = runIdFrom(result.stderr);
      expect(store.getRun(runId).mode).toBe("auto");
      expect(store.experiments(runId).map((e) => e.arm)).toEqual([chosen]);
    } finally {
      store.close();
    }
  });
});
