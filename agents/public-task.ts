import type { Task } from "../tasks/task.js";

/**
 * What an agent may see of a task. Hidden tests and the canonical solution are removed here,
 * by type and by value, so no prompt can ever contain them: feedback comes only from the
 * docstring's examples and the Tester's own tests, which keeps iterative scores honest.
 */
export type PublicTask = Pick<Task, "id" | "prompt" | "entryPoint" | "visibleExamples">;

export function publicView(task: Task): PublicTask {
  return { id: task.id, prompt: task.prompt, entryPoint: task.entryPoint, visibleExamples: task.visibleExamples };
}
