import type { TestFramework } from "../../../tasks/repo-task.js";

/**
 * Per-test statuses read from a test run's log, exactly as the SWE-bench harness reads them
 * (swebench/harness/log_parsers/python.py), so a FAIL_TO_PASS or PASS_TO_PASS name from the
 * dataset is looked up under the same key the harness uses. pytest's names are cut at the first
 * space, as the harness cuts them: `test_valid[42 is the answer]` is known as `test_valid[42`.
 */
export type TestStatus = "PASSED" | "FAILED" | "SKIPPED" | "ERROR" | "XFAIL";

const STATUSES = "FAILED|PASSED|SKIPPED|ERROR|XFAIL";
const STATUS_FIRST = new RegExp(`^(${STATUSES})\\s+(\\S+)`);
const TEST_FIRST = new RegExp(`^(\\S+)\\s+(${STATUSES})(?:\\s|$)`);
// "SKIPPED [2] tests/x.py:10: reason" counts skips; it names no test.
const SKIP_COUNT = /^\[\d+\]/;

export function parseTestLog(framework: TestFramework, log: string): Map<string, TestStatus> {
  switch (framework) {
    case "pytest":
      return parsePytestLog(log);
    case "django":
      return parseDjangoLog(log);
    case "sympy":
      return parseSympyLog(log);
  }
}

/** pytest -rA: "PASSED path::name", "FAILED path::name - message", or "path::name PASSED" (-v). */
export function parsePytestLog(log: string): Map<string, TestStatus> {
  const statuses = new Map<string, TestStatus>();
  for (const line of log.split("\n")) {
    const statusFirst = STATUS_FIRST.exec(line);
    if (statusFirst) {
      const status = statusFirst[1] as TestStatus;
      let name = statusFirst[2]!;
      if (status === "FAILED") name = pythonSplit(line.replaceAll(" - ", " "))[1]!;
      if (status === "SKIPPED" && SKIP_COUNT.test(name)) continue;
      statuses.set(name, status);
      continue;
    }
    const testFirst = TEST_FIRST.exec(line);
    if (testFirst) statuses.set(testFirst[1]!, testFirst[2] as TestStatus);
  }
  return statuses;
}

/** Django's runtests.py --verbosity 2: "test_x (module.Class) ... ok", "FAIL: test_x (module.Class)". */
export function parseDjangoLog(log: string): Map<string, TestStatus> {
  const statuses = new Map<string, TestStatus>();
  let previous: string | undefined;
  for (const raw of log.split("\n")) {
    let line = raw.trim();
    if (line.includes("--version is equivalent to version")) statuses.set("--version is equivalent to version", "PASSED");
    if (line.includes(" ... ")) previous = line.split(" ... ")[0];
    for (const suffix of [" ... ok", " ... OK", " ...  OK"]) {
      if (!line.endsWith(suffix)) continue;
      // The harness's own special case (django__django-7188): a migration line runs into the test's.
      if (line.startsWith("Applying sites.0002_alter_domain_unique...test_no_migrations")) line = line.split("...").slice(1).join("...").trim();
      statuses.set(line.slice(0, line.lastIndexOf(suffix)), "PASSED");
      break;
    }
    if (line.includes(" ... skipped")) statuses.set(line.split(" ... skipped")[0]!, "SKIPPED");
    if (line.endsWith(" ... FAIL")) statuses.set(line.split(" ... FAIL")[0]!, "FAILED");
    if (line.startsWith("FAIL:")) statuses.set(pythonSplit(line)[1]!.trim(), "FAILED");
    if (line.endsWith(" ... ERROR")) statuses.set(line.split(" ... ERROR")[0]!, "ERROR");
    if (line.startsWith("ERROR:")) statuses.set(pythonSplit(line)[1]!.trim(), "ERROR");
    // The test passed, with its own output between "..." and "ok".
    if (line.trimStart().startsWith("ok") && previous !== undefined) statuses.set(previous, "PASSED");
  }
  // Django's logger sometimes prints a long message between a test's name and its "ok".
  const interrupted = [
    /^(.*?)\s\.\.\.\sTesting against Django installed in ([\s\S]*?) silenced\)\.\nok$/gm,
    /^(.*?)\s\.\.\.\sInternal Server Error: \/(.*)\/\nok$/gm,
    /^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$/gm,
  ];
  for (const pattern of interrupted) for (const match of log.matchAll(pattern)) statuses.set(match[1]!, "PASSED");
  return statuses;
}

/** sympy's bin/test --verbose: "test_x ok", "test_x F", "test_x E", and "___ path.py:test_x ___" headers of failures. */
export function parseSympyLog(log: string): Map<string, TestStatus> {
  const statuses = new Map<string, TestStatus>();
  for (const match of log.matchAll(/(_*) (.*)\.py:(.*) (_*)/g)) statuses.set(`${match[2]}.py:${match[3]}`, "FAILED");
  for (const raw of log.split("\n")) {
    const line = raw.trim();
    if (!line.startsWith("test_")) continue;
    const name = pythonSplit(line)[0]!;
    if (line.endsWith(" E")) statuses.set(name, "ERROR");
    if (line.endsWith(" F")) statuses.set(name, "FAILED");
    if (line.endsWith(" ok")) statuses.set(name, "PASSED");
  }
  return statuses;
}

/** Python's str.split() without arguments: runs of whitespace separate, none at the ends. */
function pythonSplit(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

// node --test's TAP: "ok 1 - name", "not ok 2 - name", "ok 3 - name # SKIP"; subtests are indented.
const TAP_LINE = /^(not )?ok \d+ - (.*?)(?:\s+#\s+(SKIP|TODO)\b.*)?$/;

/** Top-level tests of a TAP stream (node's test runner when its output is not a terminal). */
export function parseTapLog(log: string): Map<string, "passed" | "failed" | "skipped"> {
  const statuses = new Map<string, "passed" | "failed" | "skipped">();
  for (const line of log.split("\n")) {
    const match = TAP_LINE.exec(line);
    if (!match) continue;
    statuses.set(match[2]!, match[3] ? "skipped" : match[1] ? "failed" : "passed");
  }
  return statuses;
}
