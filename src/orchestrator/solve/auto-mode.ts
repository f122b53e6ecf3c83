import type { RepoTask } from "../../../tasks/repo-task.js";
import { KoderzError } from "../../errors.js";
import type { SolveMode } from "./solve-pipeline.js";

/**
 * `--mode auto`: the trained meta-controller picks fast, standard or deep from the issue text.
 * The policy reads a task's text features; for an issue that text is the issue itself (it has no
 * entry point or docstring examples). With --ladder, it chooses among the modes the ladder can
 * start in (see solve-ladder.ts). Loaded lazily, so runs without --policy never load tfjs.
 */
export async function chooseModeWithPolicy(policyPath: string | undefined, task: RepoTask, allowedModes?: readonly SolveMode[]): Promise<SolveMode> {
  if (!policyPath) throw new KoderzError("usage", "--mode auto needs a trained policy", "pass --policy FILE (train one with `koderz train-meta`), or choose --mode fast, standard or deep");
  const { loadPolicy } = await import("../../../policy/policy-file.js");
  const { policy } = await loadPolicy(policyPath);
  return policy.chooseMode({ id: task.id, prompt: `${task.title}\n\n${task.issueText}`, entryPoint: "", visibleExamples: [] }, { allowedModes });
}
