import { describe, expect, it } from "vitest";
import { parseIssueUrl } from "../tasks/issue-url.js";
import { SweInstanceSchema } from "../tasks/swe-instance.js";
import { patchedFiles } from "../src/orchestrator/solve/swe-harness.js";
import { namedOutcome, readSuite } from "../src/orchestrator/solve/suite-outcomes.js";
import { parsePytestLog } from "../src/orchestrator/solve/test-log-parsers.js";
import { cannotRunReason, commandForTests, detectTestCommand, givenTestCommand } from "../src/orchestrator/solve/test-command.js";

// What `koderz solve` reads from outside: issue URLs, SWE-bench instances, the files that say
// how a repository is tested, and what test runners print.

describe("issue URLs", () => {
  it("reads owner, repository and number", () => {
    expect(parseIssueUrl("https://github.com/acme/widgets/issues/42")).toEqual({ owner: "acme", repo: "widgets", number: 42 });
    expect(parseIssueUrl("https://github.com/acme/widgets/issues/42/")).toEqual({ owner: "acme", repo: "widgets", number: 42 });
    expect(parseIssueUrl("https://github.com/acme/widgets/issues/42#issuecomment-1")).toEqual({ owner: "acme", repo: "widgets", number: 42 });
    expect(parseIssueUrl("https://ghe.example.com/team/tool/issues/3", { apiBaseUrl: "https://ghe.example.com/api/v3" })).toEqual({ owner: "team", repo: "tool", number: 3 });
  });

  it("refuses anything else with a usage error that shows the right form", () => {
    for (const url of ["", "github.com/acme/widgets/issues/1", "https://github.com/acme/widgets", "https://github.com/acme/widgets/issues/0", "https://github.com/acme/widgets/issues/1/extra", "ftp://github.com/a/b/issues/1", "https://github.com/ac me/w/issues/1"]) {
      expect(() => parseIssueUrl(url), url).toThrow(expect.objectContaining({ code: "usage", hint: expect.stringContaining("https://github.com/OWNER/REPO/issues/NUMBER") }));
    }
  });
});

describe("SWE-bench instances", () => {
  const base = { instance_id: "a__b-1", repo: "a/b", base_commit: "0123456789abcdef0123456789abcdef01234567", problem_statement: "it breaks", test_patch: "" };

  it("accept the test lists as JSON strings (as published) or as lists", () => {
    expect(SweInstanceSchema.parse({ ...base, FAIL_TO_PASS: '["t::a"]', PASS_TO_PASS: "[]" })).toMatchObject({ FAIL_TO_PASS: ["t::a"], PASS_TO_PASS: [] });
    expect(SweInstanceSchema.parse({ ...base, FAIL_TO_PASS: ["t::a"] })).toMatchObject({ FAIL_TO_PASS: ["t::a"], PASS_TO_PASS: [] });
  });

  it("refuse malformed ones, and never keep the gold patch", () => {
    expect(SweInstanceSchema.safeParse({ ...base, FAIL_TO_PASS: "not json" }).success).toBe(false);
    expect(SweInstanceSchema.safeParse({ ...base, FAIL_TO_PASS: [], repo: "nope" }).success).toBe(false);
    expect(SweInstanceSchema.safeParse({ ...base, FAIL_TO_PASS: [], base_commit: "main" }).success).toBe(false);
    expect(SweInstanceSchema.parse({ ...base, FAIL_TO_PASS: [], patch: "gold" })).not.toHaveProperty("patch");
  });

  it("a test patch's files are found for restoring before it is applied", () => {
    const patch = "diff --git a/tests/test_a.py b/tests/test_a.py\n--- a/tests/test_a.py\n+++ b/tests/test_a.py\n@@ -1 +1 @@\n-x\n+y\ndiff --git a/old.py b/new.py\n";
    expect(patchedFiles(patch)).toEqual(["tests/test_a.py", "old.py", "new.py"]);
  });
});

describe("the test command", () => {
  const repo = (files: Record<string, string>) => ({ paths: Object.keys(files), read: async (file: string) => files[file] });

  it("is detected from the repository's files", async () => {
    expect(await detectTestCommand(repo({ "pkg/__init__.py": "", "tests/test_pkg.py": "" }))).toEqual({ command: "python3 -m pytest -q", runner: "pytest" });
    expect(await detectTestCommand(repo({ "pyproject.toml": "[tool.pytest.ini_options]\n" }))).toMatchObject({ runner: "pytest" });
    expect(await detectTestCommand(repo({ "package.json": '{"scripts": {"test": "node --test"}}' }))).toEqual({ command: "npm test", runner: "npm" });
    expect(await detectTestCommand(repo({ "go.mod": "module x" }))).toEqual({ command: "go test ./...", runner: "go" });
    expect(await detectTestCommand(repo({ "Cargo.toml": "[package]" }))).toEqual({ command: "cargo test", runner: "cargo" });
  });

  it("is not npm's placeholder script, and a repository without tests is a clear error", async () => {
    const placeholder = repo({ "package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}' });
    await expect(detectTestCommand(placeholder)).rejects.toMatchObject({ code: "bad_input", hint: expect.stringContaining("--test-cmd") });
    await expect(detectTestCommand(repo({ "README.md": "" }))).rejects.toThrow("no test command found");
  });

  it("runs single tests the way each runner takes them", () => {
    expect(commandForTests(givenTestCommand("pytest -x"), ["t.py::a b", "u.py"])).toBe("pytest -x -rA -p no:cacheprovider 't.py::a b' u.py");
    expect(commandForTests(givenTestCommand("npm test"), ["test/a.test.js"])).toBe("npm test -- test/a.test.js");
    expect(commandForTests(givenTestCommand("make check"), ["unit"])).toBe("make check unit");
  });

  it("reads pytest's per-test verdicts, by node id or by file", () => {
    const output = "PASSED t/test_a.py::test_one\nFAILED t/test_a.py::test_two - assert 1 == 2\nPASSED t/test_b.py::test_x[1-2]\n";
    const tests = Object.fromEntries([...parsePytestLog(output)].map(([id, status]) => [id, status === "PASSED" ? "passed" : "failed"] as const));
    const suite = readSuite([{ file: "t", command: "pytest", exitCode: 1, timedOut: false, seconds: 1, tests }]);
    const outcomes = ["t/test_a.py::test_one", "t/test_a.py::test_two", "t/test_a.py", "t/test_b.py::test_x[1-2]", "t/test_c.py::missing"].map((id) => namedOutcome(id, suite));
    expect(outcomes).toEqual(["passed", "failed", "failed", "passed", undefined]);
  });

  it("tells tests that fail from tests that cannot run", () => {
    const pytest = givenTestCommand("python3 -m pytest");
    expect(cannotRunReason(pytest, { exitCode: 1, timedOut: false, output: "1 failed" })).toBeUndefined();
    expect(cannotRunReason(pytest, { exitCode: 5, timedOut: false, output: "" })).toBe("pytest found no tests");
    expect(cannotRunReason(pytest, { exitCode: 1, timedOut: false, output: "No module named pytest" })).toBe("pytest is not installed in the image");
    expect(cannotRunReason(givenTestCommand("go test ./..."), { exitCode: 127, timedOut: false, output: "go: not found" })).toMatch(/not found/);
    expect(cannotRunReason(givenTestCommand("npm test"), { exitCode: 1, timedOut: false, output: 'npm ERR! Missing script: "test"' })).toMatch(/npm could not start/);
    expect(cannotRunReason(pytest, { exitCode: 124, timedOut: true, output: "" })).toMatch(/time limit/);
  });
});
