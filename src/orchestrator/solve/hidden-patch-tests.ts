import type { Workspace } from "../../../sandbox/workspace.js";
import { KoderzError } from "../../errors.js";
import type { RepoTask, TestFramework } from "../../../tasks/repo-task.js";
import { harnessCommand, harnessReportFromLog, patchedFiles, testDirectives, type HarnessReport, type TestDirective } from "./swe-harness.js";
import type { TestRun, WorkspaceTests } from "./workspace-tests.js";

export interface HiddenPatchBaseline {
  /** The harness's run with the test patch applied, before any change: it must be able to run. */
  withPatch: TestRun;
  report: HarnessReport;
  /** PASS_TO_PASS tests that exist and pass without the test patch: what the agents' work is checked with. */
  knownPassing: string[];
}

/**
 * The tests of a task with a hidden test patch (a SWE-bench instance), run as the harness runs
 * them. The patch is applied only for the baseline and the grade, and taken out again at once,
 * so the agents never see it; while they work, their change is checked with the PASS_TO_PASS
 * tests that exist without it, and with the Tester's reproduction.
 */
export class HiddenPatchTests {
  readonly framework: TestFramework;
  private readonly directives: TestDirective[];
  private knownPassing: string[] = [];
  /** Directives whose files exist without the patch (the patch may add new test files). */
  private existing: TestDirective[] = [];

  constructor(
    private readonly workspace: Workspace,
    private readonly tests: WorkspaceTests,
    private readonly task: RepoTask & { hiddenTestPatch: string },
  ) {
    this.framework = task.testFramework ?? "pytest";
    this.directives = testDirectives(task.hiddenTestPatch, this.framework);
  }

  get harnessCommand(): string {
    return harnessCommand(this.framework, this.directives, this.tests.test);
  }

  /**
   * With the patch: does the harness's command run at all? Without it: which PASS_TO_PASS tests
   * pass now? A patch that does not apply is an error: nothing could be graded.
   */
  async baseline(): Promise<HiddenPatchBaseline> {
    const applied = await this.applyPatch();
    let withPatch: TestRun;
    try {
      if (!applied.applied) {
        throw new KoderzError("bad_input", `the instance's test_patch does not apply to its base commit: ${applied.message.split("\n").slice(0, 5).join(" | ")}`, "check that --repo is a clone of the instance's repository and that the instance file is intact");
      }
      withPatch = await this.tests.runCommand(this.harnessCommand);
    } finally {
      await this.workspace.restoreFromBase(patchedFiles(this.task.hiddenTestPatch));
    }
    const report = harnessReportFromLog(this.framework, withPatch.output, this.task.failToPass, this.task.passToPass);
    this.existing = [];
    for (const directive of this.directives) if ((await this.workspace.exec(["test", "-e", directive.path])).exitCode === 0) this.existing.push(directive);
    if (this.existing.length && this.task.passToPass.length) {
      const without = await this.tests.runCommand(harnessCommand(this.framework, this.existing, this.tests.test));
      this.knownPassing = harnessReportFromLog(this.framework, without.output, [], this.task.passToPass).passToPass.success;
    }
    return { withPatch, report, knownPassing: [...this.knownPassing] };
  }

  /**
   * The check after an agent's turn: the known PASS_TO_PASS tests (judged from the log, so a test in the
   * same file that failed already does not count) and the Tester's reproduction (by exit code).
   * Undefined when there is nothing to check with.
   */
  async check(reproductionTests: readonly string[]): Promise<TestRun | undefined> {
    const runs: { run: TestRun; passed: boolean }[] = [];
    if (this.knownPassing.length) {
      const run = await this.tests.runCommand(harnessCommand(this.framework, this.existing, this.tests.test));
      const report = harnessReportFromLog(this.framework, run.output, [], this.knownPassing);
      const failing = report.passToPass.failure;
      const verdict = failing.length ? `\n${failing.length} of the ${this.knownPassing.length} tests that passed before fail now: ${failing.slice(0, 10).join(", ")}` : "";
      runs.push({ run: { ...run, output: run.output + verdict }, passed: failing.length === 0 && !run.timedOut });
    }
    if (reproductionTests.length) {
      const run = await this.tests.run(reproductionTests);
      runs.push({ run, passed: run.passed });
    }
    if (runs.length === 0) return undefined;
    const failed = runs.find((r) => !r.passed);
    return {
      command: runs.map((r) => r.run.command).join(" ; "),
      passed: failed === undefined,
      exitCode: failed ? failed.run.exitCode || 1 : 0,
      timedOut: runs.some((r) => r.run.timedOut),
      output: runs.map((r) => `$ ${r.run.command}\n${r.run.output}`).join("\n\n"),
      durationMs: runs.reduce((total, r) => total + r.run.durationMs, 0),
    };
  }

  /** The harness's grade of the workspace as it stands: restore the patch's files, apply it, run, read the log. */
  async grade(): Promise<{ run?: TestRun; report: HarnessReport; patchError?: string }> {
    const applied = await this.applyPatch();
    if (!applied.applied) return { report: harnessReportFromLog(this.framework, "", this.task.failToPass, this.task.passToPass), patchError: applied.message };
    const run = await this.tests.runCommand(this.harnessCommand);
    return { run, report: harnessReportFromLog(this.framework, run.output, this.task.failToPass, this.task.passToPass) };
  }

  /** As the harness does: the files the patch touches go back to the base commit first, so the agents' edits to them do not count. */
  private async applyPatch(): Promise<{ applied: boolean; message: string }> {
    await this.workspace.restoreFromBase(patchedFiles(this.task.hiddenTestPatch));
    return this.workspace.applyPatch(this.task.hiddenTestPatch);
  }
}
