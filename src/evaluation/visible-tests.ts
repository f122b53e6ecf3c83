import type { Program, Sandbox, Verdict } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { DEFAULT_TIMEOUT_SECONDS } from "./program.js";

/** One visible test: Python statements run against prompt + completion. */
export interface VisibleTest {
  name: string;
  source: string;
  /**
   * Written by koderz from the task's own text (docstring examples): run outside the program,
   * so it cannot be forged. A test a model wrote runs inside the program it tests.
   */
  trusted: boolean;
}

export interface CheckReport {
  /** Passed / total, or undefined when there was nothing to run. */
  passFraction?: number;
  allPassed: boolean;
  /** For agents and traces: which tests failed and how. */
  text: string;
}

/**
 * Tests from the docstring's examples. A doctest compares printed values; comparing values
 * (with a float tolerance) accepts the same answers without depending on repr formatting.
 */
export function exampleTests(task: Pick<Task, "visibleExamples">): VisibleTest[] {
  return task.visibleExamples.map((example) => ({
    name: `${example.call} == ${example.expected}`,
    source: [
      `__got = ${example.call}`,
      `__want = ${example.expected}`,
      `if not (__got == __want or (isinstance(__want, float) and isinstance(__got, (int, float)) and abs(__got - __want) <= 1e-6 * max(1.0, abs(__want)))):`,
      `    raise AssertionError("${escapePython(example.call)} returned " + repr(__got) + ", expected " + repr(__want))`,
    ].join("\n"),
    trusted: true,
  }));
}

/** Tests the Tester wrote: each assert line on its own, so one bad test cannot hide the others. */
export function testerTests(asserts: string[]): VisibleTest[] {
  return asserts.map((line) => ({
    name: line,
    source: `try:\n    ${line}\nexcept AssertionError:\n    raise AssertionError("${escapePython(line)}")`,
    trusted: false,
  }));
}

export async function runVisibleTests(
  sandbox: Sandbox,
  task: Pick<Task, "prompt" | "entryPoint">,
  completion: string,
  tests: VisibleTest[],
): Promise<CheckReport> {
  if (tests.length === 0) return { allPassed: true, text: "no visible tests to run" };
  const verdicts = await sandbox.run(
    tests.map((test, i) => ({ id: String(i), ...visibleTestProgram(task, completion, test), timeoutSeconds: DEFAULT_TIMEOUT_SECONDS })),
  );
  return summarise(tests, verdicts);
}

/**
 * The program for one visible test: a trusted test judges from outside (in the judge's own
 * namespace: the task's prompt, the program's entry point alone), a model's from inside.
 * `prompt` is what the code is appended to ("" for a whole-program solution).
 */
export function visibleTestProgram(
  task: Pick<Task, "prompt" | "entryPoint">,
  code: string,
  test: VisibleTest,
  prompt: string = task.prompt,
): Pick<Program, "source" | "check" | "judgeSetup" | "entryPoint"> {
  const source = `${prompt}${code}\n`;
  return test.trusted ? { source, check: test.source, judgeSetup: task.prompt, entryPoint: task.entryPoint } : { source: `${source}\n${test.source}\n` };
}

function summarise(tests: VisibleTest[], verdicts: Verdict[]): CheckReport {
  const passed = verdicts.filter((v) => v.passed).length;
  const failures = verdicts
    .map((verdict, i) => ({ verdict, test: tests[i]! }))
    .filter(({ verdict }) => !verdict.passed)
    .map(({ verdict, test }) => `- ${test.name}: ${verdict.result}${verdict.output ? `\n  output: ${verdict.output.slice(0, 500)}` : ""}`);
  const header = `${passed}/${tests.length} visible tests passed`;
  return {
    passFraction: passed / tests.length,
    allPassed: passed === tests.length,
    text: failures.length ? `${header}\n${failures.join("\n")}` : header,
  };
}

function escapePython(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
