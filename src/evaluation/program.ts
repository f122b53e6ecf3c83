import type { Program } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";

type VerdictTask = Pick<Task, "prompt" | "hiddenTest" | "entryPoint">;

/**
 * The program whose run decides a verdict, as the reference HumanEval harness builds it
 * (prompt + completion + "\n" + test + "\n" + "check(<entry_point>)"), split where trust ends:
 * the sandbox runs prompt + completion as the untrusted program, and the test with its
 * check() call outside it, so no program can report its own success nor read its tests. The
 * judge runs `judgeSetup` (the task's prompt, also for a whole-program solution that replaces it)
 * in a namespace of its own, and reaches the program only as its entry point.
 */
export function verdictProgram(
  task: VerdictTask,
  completion: string,
  judgeSetup: string = task.prompt,
): Pick<Program, "source" | "check" | "judgeSetup" | "entryPoint"> {
  return {
    source: `${task.prompt}${completion}`,
    check: `${task.hiddenTest}\ncheck(${task.entryPoint})`,
    // The judge's own namespace: the prompt's helpers and the real builtins, whatever the completion redefines.
    judgeSetup,
    entryPoint: task.entryPoint,
  };
}

/** The single program the reference harness itself runs, for comparing verdicts with it. */
export function referenceProgram(task: VerdictTask, completion: string): string {
  const { source, check } = verdictProgram(task, completion);
  return `${source}\n${check}`;
}

/** Default per-program wall-clock limit of the reference harness, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 3;
