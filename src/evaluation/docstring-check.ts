import type { Program, Sandbox } from "../../sandbox/sandbox.js";
import type { PublicTask } from "../../tasks/task.js";
import { exampleTests, visibleTestProgram } from "./visible-tests.js";

/** One candidate to check: the code is appended to `prompt` ("" for a whole-program solution). */
export interface DocstringCheckItem {
  key: string;
  task: PublicTask;
  prompt: string;
  code: string;
}

export interface DocstringCheck {
  /** Passed / total docstring examples; undefined when the docstring has none. */
  passFraction?: number;
  /** For the step's test output: how many passed and how each failure failed. */
  text: string;
}

/**
 * Runs each candidate against its task's docstring examples, the tests an agent may see, with
 * the same tests the live pipelines score steps with (exampleTests), so an imported step's
 * visible pass fraction means what a live one does. Hidden tests are never used here.
 * All programs go to the sandbox as one batch: one container start instead of one per task.
 */
export async function checkDocstringExamples(
  sandbox: Sandbox,
  items: readonly DocstringCheckItem[],
  options: { timeoutSeconds: number; workers?: number; signal?: AbortSignal },
): Promise<Map<string, DocstringCheck>> {
  const planned = items.map((item) => ({ item, tests: exampleTests(item.task) }));
  const programs: Program[] = planned.flatMap(({ item, tests }) =>
    tests.map((test, i) => ({ id: `${item.key}#${i}`, ...visibleTestProgram(item.task, item.code, test, item.prompt), timeoutSeconds: options.timeoutSeconds })),
  );
  const verdicts = new Map((await sandbox.run(programs, { workers: options.workers, signal: options.signal })).map((v) => [v.id, v]));

  const checks = new Map<string, DocstringCheck>();
  for (const { item, tests } of planned) {
    if (tests.length === 0) {
      checks.set(item.key, { text: "no docstring examples to run" });
      continue;
    }
    const failures: string[] = [];
    let passed = 0;
    tests.forEach((test, i) => {
      const verdict = verdicts.get(`${item.key}#${i}`);
      if (verdict?.passed) passed++;
      else failures.push(`- ${test.name}: ${verdict?.result ?? "not run (interrupted)"}`);
    });
    const header = `${passed}/${tests.length} docstring examples passed`;
    checks.set(item.key, { passFraction: passed / tests.length, text: failures.length ? `${header}\n${failures.join("\n")}` : header });
  }
  return checks;
}
