import type { RepoTask } from "../../../tasks/repo-task.js";
import type { HiddenPatchTests } from "./hidden-patch-tests.js";
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
 * Grades the workspace as it stands, after the diff has been taken. A task with a hidden test
 * patch (SWE-bench) is graded as the SWE-bench harness grades it; one with tests named by the
 * user runs those; one with none runs the whole suite.
 */
export async function gradeWorkspace(tests: WorkspaceTests, task: RepoTask, changed: boolean, hidden?: HiddenPatchTests): Promise<Grade> {
  if (hidden) return gradeAsHarness(hidden, task, changed);
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

/** Resolved exactly when the harness would say RESOLVED_FULL; a skipped test is neither passing nor failing, as there. */
async function gradeAsHarness(hidden: HiddenPatchTests, task: RepoTask, changed: boolean): Promise<Grade> {
  const { run, report, patchError } = await hidden.grade();
  const failToPass = { passing: report.failToPass.success, failing: report.failToPass.failure };
  const passToPass = { passing: report.passToPass.success, failing: report.passToPass.failure };
  if (patchError !== undefined) {
    return { success: false, verdict: `failed: the test patch does not apply (${patchError})`, failToPass, passToPass, runs: [], testPatchError: patchError };
  }
  const verdict = `${report.resolved ? "passed" : "failed"}: FAIL_TO_PASS ${failToPass.passing.length}/${task.failToPass.length}, PASS_TO_PASS ${passToPass.passing.length}/${task.passToPass.length}${changed ? "" : ", no change was made"}`;
  const counts = { passed: failToPass.passing.length + passToPass.passing.length, failed: failToPass.failing.length + passToPass.failing.length };
  return { success: report.resolved, verdict, failToPass, passToPass, runs: run ? [run] : [], counts };
}
