import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { Workspace } from "../sandbox/workspace.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { gradeAsHarness } from "../src/orchestrator/solve/grade.js";
import { HiddenPatchTests } from "../src/orchestrator/solve/hidden-patch-tests.js";
import { WorkspaceTests } from "../src/orchestrator/solve/workspace-tests.js";
import { openStore } from "../src/store/index.js";
import { loadSweInstance } from "../tasks/swe-instance.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { sweFixture, type SweFixture } from "./fixtures/repos/swe-fixture.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { expectContractDocument } from "./helpers/json-contract.js";

// A SWE-bench-style instance built at test time, whose test_patch adds parametrized tests with
// spaces in their ids (the dataset records them cut at the space), graded as the SWE-bench
// harness grades it: the gold patch is resolved, the unchanged repository is not.

let server: ScriptedModelServer;
let workDir: string;
let fixture: SweFixture;

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-swe-grading-" }));
  fixture = sweFixture();
}, 300_000);

afterAll(async () => {
  await server?.close();
});

describe("grading a SWE-bench instance", () => {
  it("is the harness's: the gold patch resolves it, the unchanged repository and forged tests do not", async () => {
    const task = await loadSweInstance({ file: fixture.instanceFile, repoPath: fixture.dir });
    const workspace = await Workspace.open({ repoPath: fixture.dir, commit: fixture.commit });
    try {
      const tests = new WorkspaceTests(workspace, { command: "python3 -m pytest", runner: "pytest" }, 120);
      const hidden = new HiddenPatchTests(workspace, tests, { ...task, hiddenTestPatch: task.hiddenTestPatch! });

      const unchanged = await gradeAsHarness(hidden, task, false);
      expect(unchanged.success).toBe(false);
      expect(unchanged.failToPass).toEqual({ passing: [], failing: fixture.failToPass });
      expect(unchanged.passToPass).toEqual({ passing: fixture.passToPass, failing: [] });
      // The test files the patch touches run, never the dataset's cut names (pytest would find none).
      expect(unchanged.runs.map((r) => r.command)).toEqual(["python3 -m pytest -rA -p no:cacheprovider tests/test_numbers.py"]);

      // An agent that rewrites the tests to pass gains nothing: the patch's files are restored first.
      await workspace.writeFile("tests/test_numbers.py", "def test_negative():\n    pass\n");
      expect((await gradeAsHarness(hidden, task, true)).success).toBe(false);

      expect((await workspace.applyPatch(fixture.goldPatch)).applied).toBe(true);
      const gold = await gradeAsHarness(hidden, task, true);
      expect(gold.success).toBe(true);
      expect(gold.verdict).toBe("passed: FAIL_TO_PASS 2/2, PASS_TO_PASS 3/3");
      expect(gold.failToPass).toEqual({ passing: fixture.failToPass, failing: [] });
      expect(gold.passToPass).toEqual({ passing: fixture.passToPass, failing: [] });
    } finally {
      await workspace.close();
    }
  });

  it("koderz solve --swe-instance: baseline with the test patch, checks with the known PASS_TO_PASS tests, the harness's grade", async () => {
    server.reset();
    server.setScript(
      teamScript({
        fix: fixture.fix,
        reproduction: {
          file: "tests/test_minus.py",
          source: "from leadnum import leading_number\n\n\ndef test_minus_sign():\n    assert leading_number('-3 apples') == -3\n",
          id: "tests/test_minus.py",
        },
      }).script,
    );
    const result = await koderz(["solve", "--swe-instance", fixture.instanceFile, "--repo", fixture.dir, "--mode", "standard", "--json"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain("with the hidden test patch, before any change: FAIL_TO_PASS 0/2 pass, PASS_TO_PASS 3/3 pass");
    const report = JSON.parse(result.stdout) as { runId: string; success: boolean; verdict: string; wallSeconds: number; experimentId: string };
    expectContractDocument("solve", report);
    // A hidden test patch grades the named tests only: no whole-suite grade, and that is null, not absent.
    expect(report).toMatchObject({ grade: null });
    expect(report.success).toBe(true);
    expect(report.verdict).toBe("passed: FAIL_TO_PASS 2/2, PASS_TO_PASS 3/3");
    for (const chat of server.chatRequests) expect(chat.prompt).not.toContain("test_negative");

    const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
    try {
      const steps = store.steps(report.experimentId);
      // The repository's other test file fails here (it needs the network): a check of the whole
      // suite would fail and call the Debugger. The checks run the known tests and the reproduction only.
      const checks = steps.filter((s) => s.agent === "koderz" && s.action === "run_tests").map((s) => s.prompt ?? "");
      expect(checks.length).toBeGreaterThanOrEqual(3);
      for (const command of checks) expect(command).not.toMatch(/test_download|^python3 -m pytest -q$/);
      expect(checks.some((c) => c.includes("tests/test_minus.py") && c.includes("tests/test_numbers.py"))).toBe(true);
      expect(steps.filter((s) => s.agent === "Debugger")).toEqual([]);
      // The wall time is the user's: set-up and the baseline runs are in it.
      const stepSeconds = steps.reduce((total, s) => total + (s.latencyMs ?? 0), 0) / 1000;
      expect(report.wallSeconds).toBeGreaterThanOrEqual(stepSeconds);
    } finally {
      store.close();
    }
    const diff = readFileSync(path.join(workDir, "results", `${report.runId}.diff`), "utf8");
    expect(diff).not.toContain("test_negative");
  });

  it("a test_patch that does not apply to the base commit is an error before any model call", async () => {
    const broken = { ...fixture.instance, test_patch: fixture.testPatch.replaceAll("tests/test_numbers.py", "tests/test_missing.py") };
    const file = path.join(workDir, "broken-instance.json");
    writeFileSync(file, JSON.stringify(broken));
    server.reset();
    const result = await koderz(["solve", "--swe-instance", file, "--repo", fixture.dir], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the instance's test_patch does not apply to its base commit");
    expect(server.chatRequests).toHaveLength(0);
  });
});
