import { describe, expect, it } from "vitest";
import { candidateProgram } from "../agents/team-state.js";
import { parseReview } from "../agents/reviewer.js";
import { parseAsserts } from "../agents/tester.js";
import { publicView, type Task } from "../tasks/task.js";

const task: Task = {
  id: "HumanEval/999",
  index: 999,
  suite: "humaneval",
  prompt: 'def add(a, b):\n    """Add two numbers.\n    >>> add(1, 2)\n    3\n    """\n',
  entryPoint: "add",
  canonicalSolution: "    return a + b\n",
  visibleExamples: [{ call: "add(1, 2)", expected: "3" }],
  hiddenTest: "def check(candidate):\n    assert candidate(2, 2) == 4\n",
};

describe("what agents may see", () => {
  it("strips the hidden tests and the canonical solution from a task", () => {
    const view = publicView(task);
    expect(JSON.stringify(view)).not.toContain("check(candidate)");
    expect(JSON.stringify(view)).not.toContain("return a + b");
    expect(view.visibleExamples).toEqual(task.visibleExamples);
  });

  it("shows a completion that repeats the whole function once, and a body after its stub", () => {
    expect(candidateProgram(task, "\ndef add(a, b):\n    return a + b\n")).toBe("def add(a, b):\n    return a + b\n");
    expect(candidateProgram(task, "    return a + b\n")).toBe(task.prompt + "    return a + b\n");
  });
});

describe("Tester answers", () => {
  it("keeps one-line asserts on the function under test and drops everything else", () => {
    const answer = [
      "Here are tests:",
      "```python",
      "import pytest",
      "assert add(1, 2) == 3",
      "assert add(-1, 1) == 0",
      "assert add(1, 2) == 3",
      "assert other(1) == 2",
      "assert add(1,",
      "print(add(1, 2))",
      "```",
    ].join("\n");
    expect(parseAsserts(answer, "add")).toEqual(["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]);
  });
});

describe("Reviewer answers", () => {
  it("accepts only on an explicit ACCEPT", () => {
    expect(parseReview("ACCEPT\nLooks right.").accept).toBe(true);
    expect(parseReview("REJECT\nOff by one on empty input.")).toEqual({ accept: false, feedback: "Off by one on empty input." });
    expect(parseReview("I think this is fine.").accept).toBe(false);
    expect(parseReview("ACCEPT or REJECT? REJECT").accept).toBe(false);
    // The structured form a schema-holding backend (llama:) answers in.
    expect(parseReview('{"verdict": "REJECT", "feedback": "Off by one."}')).toEqual({ accept: false, feedback: "Off by one." });
    expect(parseReview('{"verdict": "ACCEPT", "feedback": "Right."}').accept).toBe(true);
    expect(parseReview('{"verdict": "MAYBE", "feedback": "?"}').accept).toBe(false);
  });
});
