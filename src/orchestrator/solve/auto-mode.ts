import type { RepoTask } from "../../../tasks/repo-task.js";
import type { PublicTask } from "../../../tasks/task.js";
import { KoderzError } from "../../errors.js";
import type { RungEnd } from "../engine/ladder-climb.js";
import type { SolveMode } from "./solve-pipeline.js";

/** The trained meta-controller as `solve --mode auto` asks it: where to start, and at each rung's end whether to climb. */
export interface SolvePolicy {
  chooseMode(allowedModes?: readonly SolveMode[]): SolveMode;
  atRungEnd(end: RungEnd): "Stop" | "Escalate";
}

/**
 * `--mode auto`: the trained meta-controller picks fast, standard or deep from the issue text,
 * and with --ladder it decides at the end of every rung but the last whether to Stop or Escalate
 * (see engine/ladder-climb.ts), from what a user could see there: the repository's tests passing
 * or not, the rung, the agents that ran, dollars and tokens spent, in the state training builds
 * from the same trajectory (training/ladder-state.ts: koderz's test run is the visible check).
 * Both are asked the one way the orchestrator asks a policy (engine/ask-policy.ts). The policy
 * reads a task's text features; for an issue that text is the issue itself (it has no entry point
 * or docstring examples). Loaded lazily, so runs without --policy never load tfjs.
 */
export async function loadSolvePolicy(policyPath: string | undefined, task: RepoTask): Promise<SolvePolicy> {
  if (!policyPath) throw new KoderzError("usage", "--mode auto needs a trained policy", "pass --policy FILE (train one with `koderz train-meta`), or choose --mode fast, standard or deep");
  const [{ loadPolicy }, { askAtRungEnd, askStartMode }] = await Promise.all([import("../../../policy/policy-file.js"), import("../engine/ask-policy.js")]);
  const { policy } = await loadPolicy(policyPath);
  const issue: PublicTask = { id: task.id, prompt: `${task.title}\n\n${task.issueText}`, entryPoint: "", visibleExamples: [] };
  return {
    chooseMode: (allowedModes) => askStartMode(policy, issue, allowedModes),
    atRungEnd: (end) => askAtRungEnd(policy, issue, end.trajectory),
  };
}
