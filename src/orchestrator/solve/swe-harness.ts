import type { TestFramework } from "../../../tasks/repo-task.js";
import { parseTestLog, type TestStatus } from "./test-log-parsers.js";
import { shellQuote, type TestCommand } from "./test-command.js";

/**
 * How the SWE-bench harness runs and judges an instance's tests, so koderz's grade is the
 * harness's grade: run the test files the test_patch touches (never the dataset's test names:
 * they are cut at the first space, so `test_valid[42` would select nothing), read each test's
 * status from the log with the framework's parser, and look FAIL_TO_PASS and PASS_TO_PASS up
 * in it (swebench/harness/grading.py).
 */

// Files a test patch touches that are data, not tests to run (the harness's NON_TEST_EXTS).
const NON_TEST_EXTENSIONS = [".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml"];

export interface TestDirective {
  /** The file in the repository. */
  path: string;
  /** How the framework's runner names it on the command line (Django: a module path). */
  argument: string;
}

/** The test files a test patch touches, as the harness's get_test_directives finds them. */
export function testDirectives(testPatch: string, framework: TestFramework): TestDirective[] {
  const paths = [...testPatch.matchAll(/diff --git a\/.* b\/(.*)/g)].map((match) => match[1]!);
  return paths
    .filter((file) => !NON_TEST_EXTENSIONS.some((extension) => file.endsWith(extension)))
    .map((file) => ({ path: file, argument: framework === "django" ? djangoModule(file) : file }));
}

function djangoModule(file: string): string {
  let module = file.endsWith(".py") ? file.slice(0, -".py".length) : file;
  if (module.startsWith("tests/")) module = module.slice("tests/".length);
  return module.replaceAll("/", ".");
}

/**
 * The harness's test command for the framework, on these directives. A pytest --test-cmd is
 * kept (it may name a virtualenv's pytest), with the report flags the parser needs.
 */
export function harnessCommand(framework: TestFramework, directives: readonly TestDirective[], test: TestCommand): string {
  const args = directives.map((d) => shellQuote(d.argument)).join(" ");
  switch (framework) {
    case "pytest":
      return `${test.runner === "pytest" ? test.command : "python3 -m pytest"} -rA -p no:cacheprovider ${args}`;
    case "django":
      return `python3 tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 ${args}`;
    case "sympy":
      return `PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' python3 bin/test -C --verbose ${args}`;
  }
}

/** The test command the agents use when the instance's framework has its own runner. */
export function frameworkTestCommand(framework: TestFramework): TestCommand | undefined {
  if (framework === "django") return { command: "python3 tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1", runner: "custom" };
  if (framework === "sympy") return { command: "python3 bin/test -C --verbose", runner: "custom" };
  return undefined;
}

export interface TestListReport {
  success: string[];
  failure: string[];
}

export interface HarnessReport {
  failToPass: TestListReport;
  passToPass: TestListReport;
  /** Every FAIL_TO_PASS and PASS_TO_PASS test passes (the harness's RESOLVED_FULL). */
  resolved: boolean;
}

/**
 * The harness's get_eval_tests_report and resolution: a test passes when the log says PASSED
 * or XFAIL, fails when the log says FAILED or ERROR or does not mention it, and a skipped test
 * counts neither way.
 */
export function harnessReport(statuses: Map<string, TestStatus>, failToPass: readonly string[], passToPass: readonly string[]): HarnessReport {
  const split = (names: readonly string[]): TestListReport => {
    const report: TestListReport = { success: [], failure: [] };
    for (const name of names) {
      const status = statuses.get(name);
      if (status === "PASSED" || status === "XFAIL") report.success.push(name);
      else if (status === undefined || status === "FAILED" || status === "ERROR") report.failure.push(name);
    }
    return report;
  };
  const f2p = split(failToPass);
  const p2p = split(passToPass);
  return { failToPass: f2p, passToPass: p2p, resolved: f2p.failure.length === 0 && p2p.failure.length === 0 };
}

export function harnessReportFromLog(framework: TestFramework, log: string, failToPass: readonly string[], passToPass: readonly string[]): HarnessReport {
  return harnessReport(parseTestLog(framework, log), failToPass, passToPass);
}

/** The paths a unified diff touches (both sides of renames): the files restored before a test patch is applied. */
export function patchedFiles(patch: string): string[] {
  const files = new Set<string>();
  for (const match of patch.matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)) {
    files.add(match[1]!);
    files.add(match[2]!);
  }
  return [...files];
}
