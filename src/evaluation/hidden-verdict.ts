import type { Sandbox, Verdict } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "./program.js";

/** The grader's verdict: the only place hidden tests are used, and nothing of it reaches an agent. */
export async function hiddenVerdict(
  sandbox: Sandbox,
  task: Task,
  completion: string,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
): Promise<Verdict> {
  const [verdict] = await sandbox.run([{ id: task.id, ...verdictProgram(task, completion), timeoutSeconds }]);
  return verdict!;
}
