import { describe, expect, it } from "vitest";
import { judgeChange, type ReproductionCheck } from "../src/orchestrator/solve/grade.js";
import { readSuite } from "../src/orchestrator/solve/suite-outcomes.js";
import type { FileRun, TestOutcome } from "../src/orchestrator/solve/suite-run.js";
import { parseTapLog } from "../src/orchestrator/solve/test-log-parsers.js";

// The grade's decision on suite runs read per test, without a container: what counts as a
// regression, a fix, a flaky test, and when a change with no named test is solved.

function file(name: string, tests: Record<string, TestOutcome>, extra: Partial<FileRun> = {}): FileRun {
  const failed = Object.values(tests).includes("failed");
  return { file: name, command: `pytest ${name}`, exitCode: failed ? 1 : 0, timedOut: false, seconds: 0.1, tests, ...extra };
}

const before = readSuite([
  file("t/test_a.py", { "t/test_a.py::one": "passed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "failed" }),
  file("t/test_b.py", { "t/test_b.py::slow": "passed" }),
]);

describe("judging a change against the suite's baseline", () => {
  it("a test that passed before and fails twice after is a new failure; a file that now times out names its tests", () => {
    const after = readSuite([
      file("t/test_a.py", { "t/test_a.py::one": "failed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "passed" }),
      file("t/test_b.py", {}, { timedOut: true, exitCode: 124 }),
    ]);
    const again = readSuite([file("t/test_a.py", { "t/test_a.py::one": "failed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "passed" })]);
    const judged = judgeChange({ task: { failToPass: ["t/test_a.py::bug"], passToPass: [] }, changed: true, before, after, again, suspects: new Set(["t/test_a.py::one", "t/test_a.py::bug"]) });
    expect(judged.status).toBe("not solved");
    expect(judged.newFailures).toEqual([
      { id: "t/test_a.py::one", why: "fails" },
      { id: "t/test_b.py::slow", why: "timed out" },
    ]);
    expect(judged.failToPass).toEqual({ passing: ["t/test_a.py::bug"], failing: [] });
    expect(judged.fixed).toEqual(["t/test_a.py::bug"]);
  });

  it("a test whose two runs after the change disagree is flaky: neither a regression nor a fix", () => {
    const after = readSuite([file("t/test_a.py", { "t/test_a.py::one": "failed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "passed" }), file("t/test_b.py", { "t/test_b.py::slow": "passed" })]);
    const again = readSuite([file("t/test_a.py", { "t/test_a.py::one": "passed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "failed" })]);
    const judged = judgeChange({ task: { failToPass: ["t/test_a.py::bug"], passToPass: [] }, changed: true, before, after, again, suspects: new Set(["t/test_a.py::one", "t/test_a.py::bug"]) });
    expect(judged.flaky).toEqual(["t/test_a.py::bug", "t/test_a.py::one"]);
    expect(judged.newFailures).toEqual([]);
    // A named test that is flaky is not a fix either.
    expect(judged.failToPass.failing).toEqual(["t/test_a.py::bug"]);
    expect(judged.status).toBe("not solved");
  });

  it("with no test named: solved only with a reproduction that failed before and passes after; unverified without one", () => {
    const after = readSuite([file("t/test_a.py", { "t/test_a.py::one": "passed", "t/test_a.py::two": "passed", "t/test_a.py::bug": "passed" }), file("t/test_b.py", { "t/test_b.py::slow": "passed" })]);
    const judge = (reproduction?: ReproductionCheck) => judgeChange({ task: { failToPass: [], passToPass: [] }, changed: true, before, after, suspects: new Set(), ...(reproduction ? { reproduction } : {}) });
    expect(judge({ tests: ["t/test_new.py"], failedBefore: true, passesAfter: true }).status).toBe("solved");
    expect(judge({ tests: ["t/test_new.py"], failedBefore: false, passesAfter: true }).verdict).toMatch(/^unverified: the reproduction \(t\/test_new\.py\) passes without the change too/);
    expect(judge({ tests: ["t/test_new.py"], failedBefore: true, passesAfter: false }).status).toBe("not solved");
    expect(judge().status).toBe("unverified");
    expect(judgeChange({ task: { failToPass: [], passToPass: [] }, changed: false, before, after, suspects: new Set() }).verdict).toBe("not solved: no change was made");
  });

  it("reads node's TAP output per test, subtests and skips included", () => {
    const tap = ["TAP version 13", "# Subtest: lower-cases", "ok 1 - lower-cases", "    ok 1 - inner", "not ok 2 - keeps dashes", "ok 3 - later # SKIP not yet", "1..3"].join("\n");
    expect(Object.fromEntries(parseTapLog(tap))).toEqual({ "lower-cases": "passed", "keeps dashes": "failed", later: "skipped" });
  });
});
