import type { Mode } from "../../../policy/actions.js";
import { observe, type Observation } from "../../../policy/observation.js";
import type { Prng } from "../../../policy/prng.js";
import type { Decision, Router } from "../../../policy/router.js";
import type { PublicTask } from "../../../tasks/task.js";
import { ladderEpisodeState, type LadderTrajectory } from "../../../training/ladder-state.js";

/**
 * THE way the orchestrator asks a policy (a network or a rule, policy/router.ts): observations in,
 * one decision each out, greedy or (with `rng`, a --learn run) sampled. The benchmark's auto
 * episodes ask it at every decision of a live episode (auto-experiment.ts, through training's
 * LiveEnvironment); solve's auto mode asks it for the start mode and at each rung's end, in the
 * state training builds from the same steps (training/ladder-state.ts).
 */
export function askPolicy(router: Router, observations: Observation[], rng?: Prng): Decision[] {
  return router.decide(observations, rng ? { rng } : {});
}

/** The mode to start in, from the task's text alone (optionally among `modes`). */
export function askStartMode(router: Router, task: PublicTask, modes?: readonly Mode[]): Mode {
  const observation = observe(task);
  const [decision] = askPolicy(router, [modes ? { ...observation, allowed: { kind: "mode", modes } } : observation]);
  if (decision?.action.kind !== "mode") throw new Error("the policy answered the mode decision with an agent");
  return decision.action.mode;
}

/** At a rung's end: climb or not, asked in the state training builds from the rungs' steps. */
export function askAtRungEnd(router: Router, task: PublicTask, trajectory: LadderTrajectory): "Stop" | "Escalate" {
  const [decision] = askPolicy(router, [{ ...observe(task, ladderEpisodeState(trajectory)), allowed: { kind: "agent", agents: ["Stop", "Escalate"] } }]);
  if (decision?.action.kind !== "agent") throw new Error("the policy answered a rung's end with a mode");
  return decision.action.agent === "Escalate" ? "Escalate" : "Stop";
}
