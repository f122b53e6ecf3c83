import type { FileRun, SuiteRun, TestOutcome } from "./suite-run.js";

/**
 * A suite run read as tests: each test's outcome, and the file it is in. A file whose output
 * names no test (a runner koderz cannot read per test, a file that did not even collect) is one
 * test, named by the file, passing when the file's command exits 0. A file that timed out names
 * nothing: its tests are unknown, and the file is listed apart.
 */
export interface TestRecord {
  outcome: TestOutcome;
  file: string;
}

export interface SuiteOutcomes {
  tests: Map<string, TestRecord>;
  timedOut: Set<string>;
  /** Files that ran (did not time out), with why one named no test. */
  ran: Map<string, FileRun>;
}

export function readSuite(runs: readonly FileRun[]): SuiteOutcomes {
  const tests = new Map<string, TestRecord>();
  const timedOut = new Set<string>();
  const ran = new Map<string, FileRun>();
  for (const run of runs) {
    if (run.timedOut) {
      timedOut.add(run.file);
      continue;
    }
    ran.set(run.file, run);
    const named = Object.entries(run.tests);
    if (named.length === 0) tests.set(run.file, { outcome: run.exitCode === 0 ? "passed" : "failed", file: run.file });
    for (const [id, outcome] of named) tests.set(id, { outcome, file: run.file });
  }
  return { tests, timedOut, ran };
}

/**
 * How a named id fares: a test by its exact id, or a file or class by every test under it (it
 * passes when all ran and passed, and at least one did). Undefined: nothing by that name ran.
 */
export function namedOutcome(id: string, suite: SuiteOutcomes): TestOutcome | undefined {
  const exact = suite.tests.get(id);
  if (exact) return exact.outcome;
  const under = [...suite.tests.entries()].filter(([test, record]) => test.startsWith(`${id}::`) || record.file === id);
  if (under.length === 0) return undefined;
  if (under.some(([, record]) => record.outcome === "failed")) return "failed";
  return under.some(([, record]) => record.outcome === "passed") ? "passed" : "skipped";
}

/** The test file an id lives in (pytest's and node's ids: file::name). */
export function fileOf(id: string): string {
  const cut = id.indexOf("::");
  return cut < 0 ? id : id.slice(0, cut);
}

export interface FileCounts {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  timedOut: boolean;
  seconds: number;
}

/** Per file: its tests' counts, the way the report and the summary show them. */
export function countsPerFile(suite: SuiteRun): FileCounts[] {
  return suite.files.map((run) => {
    const outcomes = Object.values(run.tests);
    const count = (outcome: TestOutcome) => outcomes.filter((o) => o === outcome).length;
    const fileLevel = outcomes.length === 0 && !run.timedOut;
    return {
      file: run.file,
      passed: fileLevel ? (run.exitCode === 0 ? 1 : 0) : count("passed"),
      failed: fileLevel ? (run.exitCode === 0 ? 0 : 1) : count("failed"),
      skipped: count("skipped"),
      timedOut: run.timedOut,
      seconds: run.seconds,
    };
  });
}

export interface SuiteTotals {
  files: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  timedOutFiles: string[];
  seconds: number;
}

export function suiteTotals(suite: SuiteRun): SuiteTotals {
  const perFile = countsPerFile(suite);
  const sum = (pick: (c: FileCounts) => number) => perFile.reduce((total, c) => total + pick(c), 0);
  const passed = sum((c) => c.passed);
  const failed = sum((c) => c.failed);
  const skipped = sum((c) => c.skipped);
  return { files: perFile.length, tests: passed + failed + skipped, passed, failed, skipped, timedOutFiles: perFile.filter((c) => c.timedOut).map((c) => c.file), seconds: suite.seconds };
}
