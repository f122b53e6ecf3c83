import type { RepoTask } from "../../../tasks/repo-task.js";
import type { HiddenPatchTests } from "./hidden-patch-tests.js";
import { countsPerFile, fileOf, namedOutcome, readSuite, suiteTotals, type FileCounts, type SuiteOutcomes, type SuiteTotals } from "./suite-outcomes.js";
import type { FileRun, SuiteRun, TestOutcome } from "./suite-run.js";
import type { SuiteTests } from "./suite-tests.js";
import type { TestRun } from "./workspace-tests.js";

export interface TestListVerdict {
  passing: string[];
  failing: string[];
}

/**
 * solved: the change makes the failing tests pass and breaks nothing that passed before.
 * not solved: it does not, or it breaks something. unverified: it breaks nothing, but nothing
 * showed the issue before the change (no test named, and no reproduction that failed without it).
 */
export type GradeStatus = "solved" | "not solved" | "unverified";

/** A test that passed before the change and does not after, and how. */
export interface NewFailure {
  id: string;
  why: "fails" | "timed out" | "not run";
}

/** The Tester's reproduction, run without the change and with it (graded only when no test is named). */
export interface ReproductionCheck {
  tests: string[];
  failedBefore: boolean;
  passesAfter: boolean;
  /** What the reproduction printed without the change (it must fail there). */
  beforeTail?: string;
  afterTail?: string;
}

/** Exactly what ran for the grade: the suite before and after, per file, and what changed. */
export interface SuiteGrade {
  command: string;
  fileTimeoutSeconds: number;
  before: SuiteTotals & { cached: boolean };
  after: SuiteTotals;
  afterFiles: FileCounts[];
  /** Files that timed out before the change and that the change does not touch: not run again. */
  notRunAgain: string[];
  newFailures: NewFailure[];
  /** Tests that failed before and pass now (twice). */
  fixed: string[];
  /** Tests that passed in one run and failed in another of the same code: reported, never counted. */
  flaky: string[];
  /** Named --fail-to-pass tests that passed already before the change. */
  alreadyPassing: string[];
  reproduction?: ReproductionCheck;
}

/** How the final change fares. */
export interface Grade {
  status: GradeStatus;
  success: boolean;
  /** One line for the store and the trace. */
  verdict: string;
  failToPass: TestListVerdict;
  passToPass: TestListVerdict;
  /** The final test runs, as checks for the trace. */
  runs: TestRun[];
  counts?: { passed: number; failed: number };
  /** The whole suite before and after (a solve without a hidden test patch). */
  suite?: SuiteGrade;
  /** Set when the hidden test patch did not apply on top of the change. */
  testPatchError?: string;
}

export interface ChangeToGrade {
  changed: boolean;
  changedFiles: readonly string[];
  /** The Tester's reproduction tests (graded when the task names no failing test). */
  reproductionTests: readonly string[];
}

/**
 * Grades the workspace as it stands, after the diff has been taken. A task with a hidden test
 * patch (a SWE-bench instance) is graded as the SWE-bench harness grades it; any other as
 * SWE-bench grades an instance, with the whole suite: before and after the change.
 */
export function gradeWorkspace(tests: { suite: SuiteTests } | { hidden: HiddenPatchTests }, task: RepoTask, change: ChangeToGrade): Promise<Grade> {
  return "hidden" in tests ? gradeAsHarness(tests.hidden, task, change.changed) : gradeWithSuite(tests.suite, task, change);
}

/**
 * The suite after the change, every test whose outcome moved run once more (flaky ones are told
 * apart), the reproduction without and with the change, then judgeChange.
 */
async function gradeWithSuite(tests: SuiteTests, task: RepoTask, change: ChangeToGrade): Promise<Grade> {
  const base = await tests.baseline();
  const named = [...task.failToPass, ...task.passToPass];
  const { suite: after, skipped } = await tests.afterChange(change.changedFiles, named);
  const first = readSuite(after.files);
  const moved = movedTests(base.outcomes, first, task.failToPass);
  const rerun = moved.size ? await tests.rerun([...new Set([...moved].map((id) => first.tests.get(id)?.file ?? base.outcomes.tests.get(id)?.file ?? fileOf(id)))]) : undefined;
  const second = rerun ? readSuite(rerun.files) : undefined;
  const reproduction = task.failToPass.length === 0 && change.changed ? await checkReproduction(tests, change, second ?? first, first) : undefined;
  const grade = judgeChange({ task, changed: change.changed, before: base.outcomes, after: first, again: second, suspects: moved, reproduction });
  const suiteGrade: SuiteGrade = {
    command: tests.test.command,
    fileTimeoutSeconds: tests.fileTimeoutSeconds,
    before: { ...suiteTotals(base.suite), cached: base.cached },
    after: suiteTotals(after),
    afterFiles: countsPerFile(after),
    notRunAgain: skipped,
    newFailures: grade.newFailures,
    fixed: grade.fixed,
    flaky: grade.flaky,
    alreadyPassing: task.failToPass.filter((id) => namedOutcome(id, base.outcomes) === "passed"),
    ...(reproduction ? { reproduction } : {}),
  };
  const totals = suiteGrade.after;
  return {
    status: grade.status,
    success: grade.status === "solved",
    verdict: grade.verdict,
    failToPass: grade.failToPass,
    passToPass: grade.passToPass,
    runs: [asCheck(after, "the suite after the change"), ...(rerun ? [asCheck(rerun, "tests whose outcome moved, run again")] : [])],
    counts: { passed: totals.passed, failed: totals.failed },
    suite: suiteGrade,
  };
}

/** Tests whose outcome differs from the baseline, and named failing tests: each is run once more. */
function movedTests(before: SuiteOutcomes, after: SuiteOutcomes, failToPass: readonly string[]): Set<string> {
  const moved = new Set<string>();
  for (const [id, record] of after.tests) {
    const was = before.tests.get(id)?.outcome;
    if (was !== undefined && was !== record.outcome && record.outcome !== "skipped" && was !== "skipped") moved.add(id);
  }
  for (const [id, record] of before.tests) if (record.outcome === "passed" && !after.tests.has(id) && !after.timedOut.has(record.file)) moved.add(id);
  for (const id of failToPass) for (const [test, record] of after.tests) if (test === id || test.startsWith(`${id}::`) || record.file === id) moved.add(test);
  return moved;
}

/** The reproduction without the change (run now), and with it (read from the suite's run when it ran there). */
async function checkReproduction(tests: SuiteTests, change: ChangeToGrade, latest: SuiteOutcomes, first: SuiteOutcomes): Promise<ReproductionCheck | undefined> {
  const ids = [...change.reproductionTests];
  if (ids.length === 0) return undefined;
  const passes = (run: FileRun) => run.exitCode === 0 && !run.timedOut;
  const before = await tests.reproductionBeforeChange(ids, change.changedFiles);
  const inSuite = ids.map((id) => namedOutcome(id, latest) ?? namedOutcome(id, first));
  const after = inSuite.every((outcome) => outcome !== undefined) ? undefined : await tests.runIds(ids);
  const passesAfter = after ? passes(after) : inSuite.every((outcome) => outcome === "passed");
  return { tests: ids, failedBefore: !passes(before), passesAfter, ...(before.tail ? { beforeTail: before.tail } : {}), ...(after?.tail ? { afterTail: after.tail } : {}) };
}

export interface Judgement {
  status: GradeStatus;
  verdict: string;
  failToPass: TestListVerdict;
  passToPass: TestListVerdict;
  newFailures: NewFailure[];
  fixed: string[];
  flaky: string[];
}

export interface JudgeInputs {
  task: Pick<RepoTask, "failToPass" | "passToPass">;
  changed: boolean;
  before: SuiteOutcomes;
  /** The suite after the change. */
  after: SuiteOutcomes;
  /** The tests in `suspects` run once more after the change. */
  again?: SuiteOutcomes;
  suspects: ReadonlySet<string>;
  reproduction?: ReproductionCheck;
}

/**
 * The decision, SWE-bench's: every named failing test passes, and every test that passed before
 * still passes. A test whose two runs of the same code disagree is flaky: it is neither a
 * regression nor a fix. With no test named, the reproduction must have failed before and pass now.
 */
export function judgeChange(inputs: JudgeInputs): Judgement {
  const { before, after, again, suspects, task } = inputs;
  const flaky = new Set<string>();
  const finalOutcome = (id: string): TestOutcome | undefined => {
    const first = after.tests.get(id)?.outcome;
    if (!suspects.has(id) || !again) return first;
    const second = again.tests.get(id)?.outcome;
    if (first !== undefined && second !== undefined && first !== second && first !== "skipped" && second !== "skipped") {
      flaky.add(id);
      return undefined;
    }
    return second ?? first;
  };
  const newFailures: NewFailure[] = [];
  const fixed: string[] = [];
  for (const [id, record] of before.tests) {
    const now = finalOutcome(id);
    if (flaky.has(id)) continue;
    if (record.outcome === "passed" && now !== "passed" && now !== "skipped") {
      const file = after.tests.get(id)?.file ?? record.file;
      newFailures.push({ id, why: now === "failed" ? "fails" : after.timedOut.has(file) ? "timed out" : "not run" });
    }
    if (record.outcome === "failed" && now === "passed") fixed.push(id);
  }
  for (const [id] of after.tests) if (!before.tests.has(id)) finalOutcome(id);
  const namedNow = (id: string): TestOutcome | undefined => {
    const under = [...after.tests.entries()].filter(([test, record]) => test === id || test.startsWith(`${id}::`) || record.file === id).map(([test]) => test);
    if (under.some((test) => flaky.has(test))) return undefined;
    if (under.length === 0) return namedOutcome(id, after);
    const outcomes = under.map(finalOutcome);
    if (outcomes.some((o) => o === "failed" || o === undefined)) return "failed";
    return outcomes.some((o) => o === "passed") ? "passed" : "skipped";
  };
  const split = (ids: readonly string[]): TestListVerdict => ({ passing: ids.filter((id) => namedNow(id) === "passed"), failing: ids.filter((id) => namedNow(id) !== "passed") });
  const failToPass = split(task.failToPass);
  const passToPass = split(task.passToPass);
  const { status, reason } = decide(inputs, failToPass, passToPass, newFailures);
  return { status, verdict: `${status}: ${reason}`, failToPass, passToPass, newFailures, fixed, flaky: [...flaky].sort() };
}

function decide(inputs: JudgeInputs, failToPass: TestListVerdict, passToPass: TestListVerdict, newFailures: NewFailure[]): { status: GradeStatus; reason: string } {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (!inputs.changed) return { status: "not solved", reason: "no change was made" };
  const broken = newFailures.length ? `${plural(newFailures.length, "test")} that passed before the change ${newFailures.length === 1 ? "fails" : "fail"} now (${newFailures.slice(0, 5).map((f) => f.id).join(", ")}${newFailures.length > 5 ? ", ..." : ""})` : "";
  const named = inputs.task.failToPass.length;
  if (named) {
    const reasons = [
      ...(failToPass.failing.length ? [`FAIL_TO_PASS ${failToPass.passing.length}/${named} (still failing: ${failToPass.failing.join(", ")})`] : [`FAIL_TO_PASS ${named}/${named}`]),
      ...(passToPass.failing.length ? [`PASS_TO_PASS ${passToPass.passing.length}/${inputs.task.passToPass.length}`] : []),
      ...(broken ? [broken] : ["no test that passed before fails"]),
    ];
    return { status: failToPass.failing.length || passToPass.failing.length || broken ? "not solved" : "solved", reason: reasons.join("; ") };
  }
  if (broken || passToPass.failing.length) return { status: "not solved", reason: [broken, passToPass.failing.length ? `PASS_TO_PASS still failing: ${passToPass.failing.join(", ")}` : ""].filter(Boolean).join("; ") };
  const repro = inputs.reproduction;
  if (!repro) return { status: "unverified", reason: "no test was named and the Tester wrote no reproduction test: nothing showed the issue before the change (no test that passed before fails)" };
  const which = repro.tests.join(", ");
  if (!repro.passesAfter) return { status: "not solved", reason: `the reproduction (${which}) still fails with the change` };
  if (!repro.failedBefore) return { status: "unverified", reason: `the reproduction (${which}) passes without the change too: it does not show the issue (no test that passed before fails)` };
  return { status: "solved", reason: `the reproduction (${which}) fails without the change and passes with it; no test that passed before fails` };
}

/** A suite run as one check in the trace: its per-file counts, and the ends of failing files' output. */
function asCheck(suite: SuiteRun, what: string): TestRun {
  const perFile = countsPerFile(suite);
  const lines = perFile.map((c) => `${c.file}: ${c.timedOut ? `timed out after ${suite.fileTimeoutSeconds} s` : `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`}`);
  const tails = suite.files.filter((run) => run.tail).map((run) => `$ ${run.command}\n${run.tail}`);
  const failed = suite.files.some((run) => run.timedOut || run.exitCode !== 0);
  return {
    command: `${suite.command} (${what}: ${suite.files.length} file${suite.files.length === 1 ? "" : "s"}, each at most ${suite.fileTimeoutSeconds} s)`,
    passed: !failed,
    exitCode: failed ? 1 : 0,
    timedOut: suite.files.some((run) => run.timedOut),
    output: [...lines, ...tails].join("\n"),
    durationMs: suite.seconds * 1000,
  };
}

/** Resolved exactly when the harness would say RESOLVED_FULL; a skipped test is neither passing nor failing, as there. */
export async function gradeAsHarness(hidden: HiddenPatchTests, task: RepoTask, changed: boolean): Promise<Grade> {
  const { run, report, patchError } = await hidden.grade();
  const failToPass = { passing: report.failToPass.success, failing: report.failToPass.failure };
  const passToPass = { passing: report.passToPass.success, failing: report.passToPass.failure };
  if (patchError !== undefined) {
    return { status: "not solved", success: false, verdict: `failed: the test patch does not apply (${patchError})`, failToPass, passToPass, runs: [], testPatchError: patchError };
  }
  const solved = report.resolved && changed;
  const status: GradeStatus = solved ? "solved" : "not solved";
  // The harness's words (its log and the stored verdicts of SWE-suite runs read the same).
  const verdict = `${report.resolved ? "passed" : "failed"}: FAIL_TO_PASS ${failToPass.passing.length}/${task.failToPass.length}, PASS_TO_PASS ${passToPass.passing.length}/${task.passToPass.length}${changed ? "" : ", no change was made"}`;
  const counts = { passed: failToPass.passing.length + passToPass.passing.length, failed: failToPass.failing.length + passToPass.failing.length };
  return { status, success: solved, verdict, failToPass, passToPass, runs: run ? [run] : [], counts };
}
