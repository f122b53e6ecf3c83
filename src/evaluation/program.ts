import type { Task } from "../../tasks/task.js";

/**
 * The program whose run decides a verdict, exactly as the reference HumanEval harness builds
 * it: prompt + completion + "\n" + test + "\n" + "check(<entry_point>)".
 */
export function verdictProgram(task: Pick<Task, "prompt" | "hiddenTest" | "entryPoint">, completion: string): string {
  return `${task.prompt}${completion}\n${task.hiddenTest}\ncheck(${task.entryPoint})`;
}

/** Default per-program wall-clock limit of the reference harness, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 3;
