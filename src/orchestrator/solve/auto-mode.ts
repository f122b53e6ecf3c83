import type { RepoTask } from "../../../tasks/repo-task.js";
import type { PublicTask } from "../../../tasks/task.js";
import { KoderzError } from "../../errors.js";
import type { RungEnd } from "./solve-ladder.js";
import type { SolveMode } from "./solve-pipeline.js";

/** The trained meta-controller as `solve --mode auto` asks it: where to start, and at each rung's end whether to climb. */
export interface SolvePolicy {
  chooseMode(allowedModes?: readonly SolveMode[]): SolveMode;
  atRungEnd(end: RungEnd): "Stop" | "Escalate";
}

/**
 * `--mode auto`: the trained meta-controller picks fast, standard or deep from the issue text,
 * and with --ladder it decides at the end of every rung but the last whether to Stop or Escalate
 * (see solve-ladder.ts), from what a user could see there: the repository's tests passing or
 * not, the rung, the agents that ran, dollars and tokens spent. The policy reads a task's text
 * features; for an issue that text is the issue itself (it has no entry point or docstring
 * examples). Loaded lazily, so runs without --policy never load tfjs.
 */
export async function loadSolvePolicy(policyPath: string | undefined, task: RepoTask): Promise<SolvePolicy> {
  if (!policyPath) throw new KoderzError("usage", "--mode auto needs a trained policy", "pass --policy FILE (train one with `koderz train-meta`), or choose --mode fast, standard or deep");
  const [{ loadPolicy }, { initialEpisodeState }] = await Promise.all([import("../../../policy/policy-file.js"), import("../../../policy/features.js")]);
  const { policy } = await loadPolicy(policyPath);
  const issue: PublicTask = { id: task.id, prompt: `${task.title}\n\n${task.issueText}`, entryPoint: "", visibleExamples: [] };
  return {
    chooseMode: (allowedModes) => policy.chooseMode(issue, { allowedModes }),
    atRungEnd(end) {
      const agentCounts = { ...initialEpisodeState().agentCounts };
      for (const agent of end.agents) agentCounts[agent] += 1;
      const state = {
        ...initialEpisodeState(),
        mode: end.mode,
        steps: end.agents.length,
        lastAgent: end.agents.at(-1) ?? null,
        agentCounts,
        // The repository's tests stand for the visible examples: all of them pass, or not.
        visibleTestsRun: true,
        visiblePassFraction: end.testsPassed ? 1 : 0,
        tokens: end.tokens,
        costUsd: end.costUsd,
        lastStepTokens: end.rungTokens,
        rung: end.rung,
        rungs: end.rungs,
      };
      return policy.chooseNextAgent(issue, state, { allowedAgents: ["Stop", "Escalate"] }) === "Escalate" ? "Escalate" : "Stop";
    },
  };
}
