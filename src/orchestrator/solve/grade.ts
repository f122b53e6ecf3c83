import type { RepoTask } from "../../../tasks/repo-task.js";
import type { Workspace } from "../../../sandbox/workspace.js";
import { testCounts } from "./test-command.js";
import type { TestRun, WorkspaceTests } from "./workspace-tests.js";

export interface TestListVerdict {
  passing: string[];
  failing: string[];
}

/** How the final change fares: the task's named tests, or the whole suite when it names none. */
export interface Grade {
  success: boolean;
  /** One line for the store and the trace. */
  verdict: string;
  failToPass: TestListVerdict;
  passToPass: TestListVerdict;
  /** The final test runs (the suite, or the named tests). */
  runs: TestRun[];
  counts?: { passed: number; failed: number };
  /** Set when the hidden test patch did not apply on top of the change. */
  testPatchError?: string;
}

/**
 * Grades the workspace as it stands, after the diff has been taken. A hidden test patch
 * (SWE-bench) first replaces whatever the agents did to the files it touches, as the SWE-bench
 * harness does, so the agents' own tests cannot stand in for the real ones.
 */
export async function gradeWorkspace(workspace: Workspace, tests: WorkspaceTests, task: RepoTask, changed: boolean): Promise<Grade> {
  if (task.hiddenTestPatch !== undefined) {
    await workspace.restoreFromBase(patchedFiles(task.hiddenTestPatch));
    const applied = await workspace.applyPatch(task.hiddenTestPatch);
    if (!applied.applied) {
      const none = { passing: [], failing: [...task.failToPass] };
      return { success: false, verdict: `failed: the test patch does not apply (${applied.message})`, failToPass: none, passToPass: { passing: [], failing: [...task.passToPass] }, runs: [], testPatchError: applied.message };
    }
  }
  const named = [...task.failToPass, ...task.passToPass];
  if (named.length === 0) {
    const run = await tests.run();
    const counts = testCounts(run.output);
    const success = changed && run.passed;
    const verdict = !changed ? "failed: no change was made" : run.passed ? "passed: the test suite passes" : `failed: the test suite fails (exit ${run.exitCode})`;
    return { success, verdict, failToPass: { passing: [], failing: [] }, passToPass: { passing: [], failing: [] }, runs: [run], ...(counts ? { counts } : {}) };
  }
  const { outcomes, runs } = await tests.outcomes(named);
  const split = (ids: string[]): TestListVerdict => ({ passing: ids.filter((id) => outcomes.get(id)), failing: ids.filter((id) => !outcomes.get(id)) });
  const failToPass = split(task.failToPass);
  const passToPass = split(task.passToPass);
  const success = changed && failToPass.failing.length === 0 && passToPass.failing.length === 0;
  const verdict = `${success ? "passed" : "failed"}: FAIL_TO_PASS ${failToPass.passing.length}/${task.failToPass.length}, PASS_TO_PASS ${passToPass.passing.length}/${task.passToPass.length}${changed ? "" : ", no change was made"}`;
  const counts = { passed: failToPass.passing.length + passToPass.passing.length, failed: failToPass.failing.length + passToPass.failing.length };
  return { success, verdict, failToPass, passToPass, runs, counts };
}

/** The paths a unified diff touches (both sides of renames). */
export function patchedFiles(patch: string): string[] {
  const files = new Set<string>();
  for (const match of patch.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) {
    files.add(match[1]!);
    files.add(match[2]!);
  }
  return [...files];
}
