import { readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import type { SolveReport } from "../src/orchestrator/solve/solve-session.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { STATS_BUG, statsRepo, type FixtureRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { expectContractDocument } from "./helpers/json-contract.js";

// `koderz solve` graded as SWE-bench grades an instance, on a user's own repository: the whole
// suite before and after the change, every test that passed before must still pass, flaky tests
// told apart, and with no test named a reproduction that fails without the change.

let server: ScriptedModelServer;
let workDir: string;

beforeAll(async () => {
  if (!(await inspectImage(connectEngine(), WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-solve-grading-" }));
}, 300_000);

afterAll(async () => {
  await server?.close();
});

async function solve(repo: FixtureRepo, team: Parameters<typeof teamScript>[0], ...flags: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; report: SolveReport }> {
  server.reset();
  server.setScript(teamScript(team).script);
  const result = await koderz(["solve", "--repo", repo.dir, "--issue", repo.issueFile, ...flags], { cwd: workDir, env });
  const runId = /run (solve_[0-9a-f]{8}_\d{8}_\d{6})/.exec(result.stderr)?.[1];
  if (!runId) throw new Error(`no run id in stderr:\n${result.stderr}\n${result.stdout}`);
  const report = JSON.parse(readFileSync(path.join(workDir, "results", `${runId}.solve.json`), "utf8")) as SolveReport;
  // The file a script reads: the JSON contract's solve document (docs/schemas/solve.schema.json).
  expectContractDocument("solve", report);
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, report };
}

describe("koderz solve's grade", () => {
  it("does not call a change solved that fixes the named test and breaks another, names the broken test, and --apply commits nothing", async () => {
    const repo = statsRepo();
    const result = await solve(repo, { fix: { file: STATS_BUG.file, ...STATS_BUG.breakingFix } }, "--mode", "fast", "--fail-to-pass", STATS_BUG.failingTest, "--apply");
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.report.status).toBe("not solved");
    expect(result.report.failToPass).toEqual({ passing: 1, total: 1 });
    expect(result.report.grade!.newFailures).toEqual([{ id: STATS_BUG.meanTest, why: "fails" }]);
    // What ran is said as it was: the whole suite, file by file, before and after.
    expect(result.report.grade!.before).toMatchObject({ files: 2, tests: 5, passed: 4, failed: 1, cached: false });
    expect(result.report.grade!.after).toMatchObject({ files: 2, tests: 5, passed: 4, failed: 1 });
    expect(result.stdout).toContain(`new failures   ${STATS_BUG.meanTest}`);
    expect(result.stdout).toMatch(/tests\/test_stats\.py\s+2 passed, 1 failed/);
    expect(result.stdout).toMatch(/tests\/test_words\.py\s+2 passed/);
    // --apply refuses, and says what --force would commit.
    expect(result.report.applied).toBeNull();
    expect(result.report.notApplied).toMatchObject({ files: [STATS_BUG.file] });
    expect(result.stdout).toContain(`--apply --force would commit ${STATS_BUG.file}`);
    expect((await execa("git", ["branch", "--list", "koderz/*"], { cwd: repo.dir })).stdout).toBe("");
    console.log(`regressing change:\n${result.stdout}`);
  }, 300_000);

  it("reports a flaky test apart and never counts it", async () => {
    const repo = statsRepo({ flaky: true });
    const first = await solve(repo, { fix: { file: STATS_BUG.file, ...STATS_BUG.fix } }, "--mode", "fast", "--fail-to-pass", STATS_BUG.failingTest);
    expect(first.exitCode, first.stderr + first.stdout).toBe(0);
    expect(first.report.status).toBe("solved");
    expect(first.report.grade!.flaky).toEqual([STATS_BUG.flakyTest]);
    expect(first.report.grade!.newFailures).toEqual([]);
    expect(first.report.grade!.fixed).toEqual([STATS_BUG.failingTest]);
    expect(first.stdout).toContain(`flaky          ${STATS_BUG.flakyTest}`);
    console.log(`flaky test:\n${first.stdout}`);
  }, 300_000);

  it("with no test named, calls a change solved only when the Tester's reproduction fails without it and passes with it", async () => {
    const repo = statsRepo();
    const shown = await solve(repo, { fix: { file: STATS_BUG.file, ...STATS_BUG.fix }, reproduction: STATS_BUG.reproduction }, "--mode", "standard");
    expect(shown.exitCode, shown.stderr + shown.stdout).toBe(0);
    expect(shown.report.status).toBe("solved");
    expect(shown.report.grade!.reproduction).toMatchObject({ tests: [STATS_BUG.reproduction.id], failedBefore: true, passesAfter: true });
    expect(shown.stdout).toContain(`reproduction   ${STATS_BUG.reproduction.id}: fails without the change, passes with it`);
    console.log(`reproduced:\n${shown.stdout}`);

    const idle = await solve(repo, { fix: { file: STATS_BUG.file, ...STATS_BUG.fix }, reproduction: STATS_BUG.idleReproduction }, "--mode", "standard");
    expect(idle.exitCode).toBe(1);
    expect(idle.report.status).toBe("unverified");
    expect(idle.report.grade!.reproduction).toMatchObject({ failedBefore: false, passesAfter: true });
    expect(idle.stdout).toMatch(/: unverified\n/);
    // The same commit, command and image: the suite was not run again before the change.
    expect(idle.report.grade!.before.cached).toBe(true);
    expect(idle.stderr).toContain("the baseline of an earlier solve");
  }, 400_000);
});
