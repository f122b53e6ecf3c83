import { describe, expect, it } from "vitest";
import { testFrameworkOf } from "../tasks/swe-instance.js";
import { harnessCommand, harnessReport, harnessReportFromLog, testDirectives } from "../src/orchestrator/solve/swe-harness.js";
import { parseDjangoLog, parsePytestLog, parseSympyLog } from "../src/orchestrator/solve/test-log-parsers.js";

// The SWE-bench harness's way of grading, on logs in each framework's own format: which test
// files run, under which command, and which name each test's status is filed under.

const PYTEST_LOG = [
  "============================= test session starts ==============================",
  "collected 6 items",
  "",
  "tests/test_numbers.py ..FF.                                               [100%]",
  "=========================== short test summary info ============================",
  "PASSED tests/test_numbers.py::test_positive[42 is the answer-42]",
  "PASSED tests/test_numbers.py::test_positive[7 days a week-7]",
  "PASSED tests/test_numbers.py::test_no_number",
  "FAILED tests/test_numbers.py::test_negative[-7 below zero--7] - assert None == -7",
  "FAILED tests/test_numbers.py::test_negative[-12 degrees at night--12] - assert None == -12",
  "SKIPPED [1] tests/test_numbers.py:20: needs a GPU",
  "XFAIL tests/test_numbers.py::test_known_bug - reason: not yet",
  "========================= 2 failed, 3 passed in 0.05s ==========================",
].join("\n");

describe("pytest logs", () => {
  it("file each test under its id cut at the first space, as the dataset records it", () => {
    const statuses = parsePytestLog(PYTEST_LOG);
    expect(Object.fromEntries(statuses)).toEqual({
      "tests/test_numbers.py::test_positive[42": "PASSED",
      "tests/test_numbers.py::test_positive[7": "PASSED",
      "tests/test_numbers.py::test_no_number": "PASSED",
      "tests/test_numbers.py::test_negative[-7": "FAILED",
      "tests/test_numbers.py::test_negative[-12": "FAILED",
      "tests/test_numbers.py::test_known_bug": "XFAIL",
    });
  });

  it("read the verbose form (name, then status) too", () => {
    expect(Object.fromEntries(parsePytestLog("tests/a.py::test_x PASSED                 [ 50%]\ntests/a.py::test_y FAILED [100%]\n"))).toEqual({ "tests/a.py::test_x": "PASSED", "tests/a.py::test_y": "FAILED" });
  });
});

describe("the harness's resolution", () => {
  const failToPass = ["tests/test_numbers.py::test_negative[-7", "tests/test_numbers.py::test_negative[-12"];
  const passToPass = ["tests/test_numbers.py::test_positive[42", "tests/test_numbers.py::test_positive[7", "tests/test_numbers.py::test_no_number"];

  it("is not resolved while a FAIL_TO_PASS test fails, and is once all pass", () => {
    const before = harnessReportFromLog("pytest", PYTEST_LOG, failToPass, passToPass);
    expect(before).toEqual({ failToPass: { success: [], failure: failToPass }, passToPass: { success: passToPass, failure: [] }, resolved: false });
    const after = harnessReportFromLog("pytest", PYTEST_LOG.replaceAll("FAILED", "PASSED"), failToPass, passToPass);
    expect(after.resolved).toBe(true);
    expect(after.failToPass.success).toEqual(failToPass);
  });

  it("counts a test the log does not mention as failed, and a skipped one as neither", () => {
    const statuses = new Map([["a", "PASSED" as const], ["s", "SKIPPED" as const], ["x", "XFAIL" as const], ["e", "ERROR" as const]]);
    expect(harnessReport(statuses, ["a", "x"], ["s"])).toEqual({ failToPass: { success: ["a", "x"], failure: [] }, passToPass: { success: [], failure: [] }, resolved: true });
    expect(harnessReport(statuses, ["a"], ["missing", "e"]).passToPass.failure).toEqual(["missing", "e"]);
  });
});

describe("Django and sympy logs", () => {
  it("Django: 'name (module.Class) ... ok', a test's own output before its 'ok', and FAIL:/ERROR: headers", () => {
    const log = [
      "test_simple (forms_tests.tests.test_input.InputTests) ... ok",
      "test_spaces (forms_tests.tests.test_input.InputTests) ... FAIL",
      "test_broken (forms_tests.tests.test_input.InputTests) ... ERROR",
      "test_skip (forms_tests.tests.test_input.InputTests) ... skipped 'no db'",
      "test_noisy (forms_tests.tests.test_input.InputTests) ... some output",
      "ok",
      "======================================================================",
      "FAIL: test_spaces (forms_tests.tests.test_input.InputTests)",
    ].join("\n");
    expect(Object.fromEntries(parseDjangoLog(log))).toEqual({
      "test_simple (forms_tests.tests.test_input.InputTests)": "PASSED",
      "test_spaces (forms_tests.tests.test_input.InputTests)": "FAILED",
      test_spaces: "FAILED",
      "test_broken (forms_tests.tests.test_input.InputTests)": "ERROR",
      "test_skip (forms_tests.tests.test_input.InputTests)": "SKIPPED",
      "test_noisy (forms_tests.tests.test_input.InputTests)": "PASSED",
    });
  });

  it("sympy: 'test_name ok', 'F' and 'E'", () => {
    const log = "sympy/core/tests/test_basic.py[3] \ntest_one ok\ntest_two F\ntest_three E\n";
    expect(Object.fromEntries(parseSympyLog(log))).toEqual({ test_one: "PASSED", test_two: "FAILED", test_three: "ERROR" });
  });
});

describe("what runs", () => {
  const patch = [
    "diff --git a/tests/forms_tests/test_input.py b/tests/forms_tests/test_input.py",
    "--- a/tests/forms_tests/test_input.py",
    "diff --git a/tests/data/expected.json b/tests/data/expected.json",
    "diff --git a/sympy/core/tests/test_basic.py b/sympy/core/tests/test_basic.py",
  ].join("\n");

  it("the test files the test_patch touches (data files left out), never the dataset's test names", () => {
    expect(testDirectives(patch, "pytest").map((d) => d.argument)).toEqual(["tests/forms_tests/test_input.py", "sympy/core/tests/test_basic.py"]);
    expect(testDirectives(patch, "django").map((d) => d.argument)).toEqual(["forms_tests.test_input", "sympy.core.tests.test_basic"]);
    const command = harnessCommand("pytest", testDirectives(patch, "pytest"), { command: "python3 -m pytest -q", runner: "pytest" });
    expect(command).toBe("python3 -m pytest -q -rA -p no:cacheprovider tests/forms_tests/test_input.py sympy/core/tests/test_basic.py");
    expect(harnessCommand("django", testDirectives(patch, "django"), { command: "make", runner: "custom" })).toBe(
      "python3 tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 forms_tests.test_input sympy.core.tests.test_basic",
    );
  });

  it("under each repository's own runner: Django's and sympy's, pytest for the rest", () => {
    expect([testFrameworkOf("django/django"), testFrameworkOf("sympy/sympy"), testFrameworkOf("astropy/astropy")]).toEqual(["django", "sympy", "pytest"]);
  });
});
