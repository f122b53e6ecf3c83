/** A visible example taken from a problem's docstring: `>>> call` followed by the expected value. */
export interface DocstringExample {
  /** A Python expression, e.g. `has_close_elements([1.0, 2.0], 0.5)`. */
  call: string;
  /** The expected value as a Python expression, e.g. `False`. */
  expected: string;
}

export type SuiteName = "humaneval" | "humaneval+";

/**
 * One function-synthesis problem. `hiddenTest` is the grader's test code and must never
 * be put into a prompt: agents see only `prompt` and `visibleExamples`.
 */
export interface Task {
  /** e.g. "HumanEval/0" */
  id: string;
  /** Position in its suite, so a range `0 164` means indices [0, 164). */
  index: number;
  suite: SuiteName;
  prompt: string;
  entryPoint: string;
  canonicalSolution: string;
  visibleExamples: DocstringExample[];
  /** Defines `check(candidate)`; the verdict program ends with `check(<entryPoint>)`. */
  hiddenTest: string;
}
