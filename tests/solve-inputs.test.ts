import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore } from "../src/store/index.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { startGithubApi, type GithubApiFixture } from "./fixtures/repos/github-api.js";
import { PYTHON_BUG, pythonRepo, untestedRepo, type FixtureRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// Every way into `koderz solve` besides --repo/--issue (a GitHub issue URL through a local
// stand-in for the GitHub API, a SWE-bench instance with a hidden test patch), and the bad
// inputs: each gets an error that says what to do, and none touches the user's files.

let server: ScriptedModelServer;
let github: GithubApiFixture;
let workDir: string;
let repo: FixtureRepo;
const TOKEN = "ghp_fixture_token";

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-solve-inputs-" }));
  repo = pythonRepo();
  const issue = {
    title: "word_count is wrong with double spaces",
    body: "`word_count(\"one  two\")` returns 3.",
    comments: [{ login: "maintainer", body: "Confirmed: split() without an argument would do." }],
  };
  github = await startGithubApi(
    {
      "acme/wordstats": { cloneUrl: `file://${repo.dir}`, issues: { 7: issue } },
      "acme/secret": { cloneUrl: `file://${repo.dir}`, private: true, issues: { 1: issue } },
    },
    { token: TOKEN },
  );
}, 300_000);

afterAll(async () => {
  await server?.close();
  await github?.close();
});

async function repoState(target: FixtureRepo) {
  const git = async (...args: string[]) => (await execa("git", args, { cwd: target.dir })).stdout;
  return {
    head: await git("rev-parse", "HEAD"),
    status: await git("status", "--porcelain", "--untracked-files=all"),
    branches: await git("branch", "--list"),
    buggyFile: readFileSync(path.join(target.dir, target.buggyFile), "utf8"),
  };
}

function solve(args: string[], extraEnv: Record<string, string> = {}) {
  return koderz(["solve", ...args], { cwd: workDir, env: { ...env, GITHUB_API_URL: github.url, ...extraEnv } });
}

function runIdFrom(stderr: string): string {
  const match = /run (solve_[0-9a-f]{8}_\d{8}_\d{6})/.exec(stderr);
  if (!match) throw new Error(`no run id in stderr:\n${stderr}`);
  return match[1]!;
}

describe("a GitHub issue URL", () => {
  it("reads the issue and its comments through the API, clones the repository and solves it", async () => {
    server.reset();
    server.setScript(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }).script);
    const before = await repoState(repo);
    const result = await solve(["https://github.com/acme/wordstats/issues/7", "--mode", "fast", "--fail-to-pass", PYTHON_BUG.failingTest]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("solving acme/wordstats#7: word_count is wrong with double spaces");
    const coderPrompt = server.chatRequests.find((c) => c.messages[0]?.content.includes("You are the Coder"))!.prompt;
    expect(coderPrompt).toContain("`word_count(\"one  two\")` returns 3.");
    expect(coderPrompt).toContain("**maintainer** wrote:\nConfirmed");
    expect(github.requests.map((r) => r.path)).toEqual(expect.arrayContaining(["/repos/acme/wordstats", "/repos/acme/wordstats/issues/7", "/repos/acme/wordstats/issues/7/comments"]));
    expect(readFileSync(path.join(workDir, "results", `${runIdFrom(result.stderr)}.diff`), "utf8")).toContain(`+${PYTHON_BUG.fix.replace}`);
    // The clone was koderz's own; the repository it was cloned from is as it was.
    expect(await repoState(repo)).toEqual(before);
  });

  it("reads a private repository with GITHUB_TOKEN", async () => {
    server.reset();
    server.setScript(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }).script);
    const result = await solve(["https://github.com/acme/secret/issues/1", "--mode", "fast", "--fail-to-pass", PYTHON_BUG.failingTest], { GITHUB_TOKEN: TOKEN });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(github.requests.filter((r) => r.path.startsWith("/repos/acme/secret")).every((r) => r.authorization?.includes(TOKEN))).toBe(true);
  });

  it("without a token, a private repository is an error that names GITHUB_TOKEN", async () => {
    server.reset();
    const result = await solve(["https://github.com/acme/secret/issues/1"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("error: acme/secret was not found: it does not exist, or the repository is private");
    expect(result.stderr).toContain("set GITHUB_TOKEN");
    expect(server.chatRequests).toHaveLength(0);
  });

  it("an unreachable API is an error that says so", async () => {
    const result = await solve(["https://github.com/acme/wordstats/issues/7"], { GITHUB_API_URL: "http://127.0.0.1:9" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("cannot reach the GitHub API at http://127.0.0.1:9");
  });

  it("a malformed URL is a usage error", async () => {
    for (const url of ["not-a-url", "https://github.com/acme/wordstats/pull/7", "https://github.com/acme/wordstats/issues/x", "https://gitlab.com/acme/wordstats/issues/7"]) {
      const result = await koderz(["solve", url], { cwd: workDir, env });
      expect(result.exitCode, url).toBe(2);
      expect(result.stderr, url).toContain("is not a GitHub issue URL");
      expect(result.stderr, url).toContain("https://github.com/OWNER/REPO/issues/NUMBER");
    }
  });

  it("an unknown commit is an error naming the repository", async () => {
    const result = await solve(["https://github.com/acme/wordstats/issues/7", "--commit", "0123456789abcdef"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("commit 0123456789abcdef is not in acme/wordstats");
  });

  it("--apply without a local clone is a usage error", async () => {
    const result = await solve(["https://github.com/acme/wordstats/issues/7", "--apply"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--apply needs a local clone");
  });
});

describe("a SWE-bench instance", () => {
  it("keeps the test patch hidden from the agents and grades with it", async () => {
    // The instance's test patch adds a test the agents never see; FAIL_TO_PASS names it.
    const scratch = path.join(mkdtempSync(path.join(tmpdir(), "koderz-swe-")), "copy");
    await execa("git", ["clone", "-q", repo.dir, scratch]);
    const hiddenTest = "def test_counts_words_across_lines():\n    assert word_count(\"one\\ntwo  three\") == 3\n";
    writeFileSync(path.join(scratch, "tests/test_words.py"), readFileSync(path.join(scratch, "tests/test_words.py"), "utf8") + "\n\n" + hiddenTest);
    const testPatch = (await execa("git", ["diff"], { cwd: scratch })).stdout + "\n";
    const failToPass = ["tests/test_words.py::test_counts_words_across_lines"];
    const instanceFile = path.join(workDir, "instance.json");
    writeFileSync(
      instanceFile,
      JSON.stringify({
        instance_id: "acme__wordstats-7",
        repo: "acme/wordstats",
        base_commit: repo.commit,
        problem_statement: "word_count is wrong when words are separated by more than one space or by newlines.",
        test_patch: testPatch,
        patch: "the gold patch, never shown",
        FAIL_TO_PASS: JSON.stringify(failToPass),
        PASS_TO_PASS: JSON.stringify([PYTHON_BUG.passingTest]),
      }),
    );
    server.reset();
    server.setScript(
      teamScript({
        fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix },
        reproduction: { file: "tests/test_repro.py", source: "from wordstats import word_count\n\n\ndef test_double_space():\n    assert word_count(\"a  b\") == 2\n", id: "tests/test_repro.py" },
      }).script,
    );
    const before = await repoState(repo);
    const result = await solve(["--swe-instance", instanceFile, "--repo", repo.dir, "--mode", "standard"]);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain("FAIL_TO_PASS   1/1 now passing");
    expect(result.stdout).toContain("PASS_TO_PASS   1/1 still passing");
    for (const chat of server.chatRequests) {
      expect(chat.prompt).not.toContain("test_counts_words_across_lines");
      expect(chat.prompt).not.toContain("the gold patch");
    }
    // The diff is the agents' work only: their reproduction test and the fix, not the hidden patch.
    const diff = readFileSync(path.join(workDir, "results", `${runIdFrom(result.stderr)}.diff`), "utf8");
    expect(diff).toContain("+++ b/tests/test_repro.py");
    expect(diff).not.toContain("test_counts_words_across_lines");
    expect(await repoState(repo)).toEqual(before);
  });

  it("an instance missing a field is an error naming the field", async () => {
    const file = path.join(workDir, "broken.json");
    writeFileSync(file, JSON.stringify({ instance_id: "x", repo: "acme/wordstats", problem_statement: "p", FAIL_TO_PASS: "[]" }));
    const result = await solve(["--swe-instance", file]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("base_commit");
  });
});

describe("bad local input leaves the user's files untouched", () => {
  it("an unknown commit", async () => {
    const before = await repoState(repo);
    const result = await solve(["--repo", repo.dir, "--issue", repo.issueFile, "--commit", "deadbeef"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`commit deadbeef is not in ${repo.dir}`);
    expect(await repoState(repo)).toEqual(before);
  });

  it("a repository with no tests to run", async () => {
    const untested = untestedRepo();
    const before = await repoState(untested);
    server.reset();
    const result = await solve(["--repo", untested.dir, "--issue", untested.issueFile]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no test command found in the repository");
    expect(result.stderr).toContain("--test-cmd");
    expect(server.chatRequests).toHaveLength(0);
    expect(await repoState(untested)).toEqual(before);
  });

  it("a test command that cannot run in the workspace", async () => {
    const before = await repoState(repo);
    server.reset();
    const missing = await solve(["--repo", repo.dir, "--issue", repo.issueFile, "--test-cmd", "make test"]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("the repository's tests cannot run: the command was not found or not executable (exit 127)");
    const unknownTest = await solve(["--repo", repo.dir, "--issue", repo.issueFile, "--fail-to-pass", "tests/test_nothing.py::test_gone"]);
    expect(unknownTest.exitCode).toBe(1);
    expect(unknownTest.stderr).toContain("no such test in the repository's suite: tests/test_nothing.py::test_gone (the suite's test files are tests/test_words.py)");
    expect(server.chatRequests).toHaveLength(0);
    expect(await repoState(repo)).toEqual(before);
    // Nothing ran, so no run was recorded.
    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      expect(store.listRuns({ kind: "solve" }).every((run) => run.status === "finished")).toBe(true);
    } finally {
      store.close();
    }
  });

  it("a workspace image that does not exist", async () => {
    const result = await solve(["--repo", repo.dir, "--issue", repo.issueFile, "--image", "koderz-no-such-image"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the workspace image koderz-no-such-image does not exist");
  });

  it("flags out of range or in conflict are usage errors", async () => {
    const cases: [string[], string][] = [
      [["--repo", repo.dir, "--issue", repo.issueFile, "--max-tool-calls", "301"], "--max-tool-calls must be at most 300"],
      [["--issue", repo.issueFile], "--issue needs --repo PATH"],
      [["--repo", repo.dir], "--repo needs an issue"],
      [["https://github.com/acme/wordstats/issues/7", "--issue", repo.issueFile, "--repo", repo.dir], "cannot be combined"],
      [["--repo", repo.dir, "--issue", repo.issueFile, "--mode", "auto"], "--mode auto needs a trained policy"],
      [[], "nothing to solve"],
    ];
    for (const [args, message] of cases) {
      const result = await solve(args);
      expect(result.exitCode, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(message);
    }
  });
});
