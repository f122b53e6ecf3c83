import type { Action, AgentChoice, Mode } from "./actions.js";
import type { EpisodeState } from "./features.js";
import { observe, type Observation } from "./observation.js";
import type { Prng } from "./prng.js";
import type { PublicTask } from "../tasks/task.js";

/**
 * What decides an episode: a trained network (MetaPolicy) or a rule a user could write
 * (RulePolicy, a cascade). A policy file holds either, and everything that asks a policy
 * (benchmark --mode auto, solve --mode auto, training's comparisons) asks it through this.
 */
export interface Router {
  readonly kind: "network" | "rule";
  /** Greedy decisions escalate only at or above this probability (networks; a rule has none). */
  escalationThreshold: number | undefined;
  decide(observations: readonly Observation[], options?: DecisionOptions): Decision[];
  chooseMode(task: PublicTask, options?: DecisionOptions & { allowedModes?: readonly Mode[] }): Mode;
  chooseNextAgent(task: PublicTask, state: EpisodeState, options?: DecisionOptions & { allowedAgents?: readonly AgentChoice[] }): AgentChoice;
  dispose(): void;
}

/**
 * How a decision is drawn. Greedy (the default) takes the most probable allowed action,
 * ties to the first, so the same policy and input always give the same action. With an
 * rng it samples from the policy's distribution; a seeded rng replays exactly.
 */
export interface DecisionOptions {
  rng?: Prng;
  /** Greedy only: this escalation threshold instead of the policy's own; null for plain argmax. */
  escalationThreshold?: number | null;
}

/** One decision with what training needs to learn from it. */
export interface Decision {
  action: Action;
  /** Which head decided, and the chosen index among that head's outputs. */
  head: "mode" | "agent";
  actionIndex: number;
  /** The head's distribution after masking disallowed actions (0 for them). */
  probabilities: Float64Array;
  logProbability: number;
  /** The value head's estimate of the return from this state. */
  value: number;
  /** The network input, and which of the head's outputs were allowed. */
  features: Float32Array;
  mask: boolean[];
}

/** chooseMode as every router answers it: one observation at the first decision. */
export function chooseModeOf(router: Pick<Router, "decide">, task: PublicTask, options: DecisionOptions & { allowedModes?: readonly Mode[] } = {}): Mode {
  const observation = observe(task);
  if (options.allowedModes) observation.allowed = { kind: "mode", modes: options.allowedModes };
  const action = router.decide([observation], options)[0]!.action;
  if (action.kind !== "mode") throw new Error("the mode head answered with an agent");
  return action.mode;
}

/** chooseNextAgent as every router answers it. `state.mode` must be set; allowedAgents narrows the mode's rules. */
export function chooseNextAgentOf(
  router: Pick<Router, "decide">,
  task: PublicTask,
  state: EpisodeState,
  options: DecisionOptions & { allowedAgents?: readonly AgentChoice[] } = {},
): AgentChoice {
  if (state.mode === null) throw new Error("chooseNextAgent needs an episode state with a mode; call chooseMode first");
  const observation = observe(task, state);
  if (options.allowedAgents) observation.allowed = { kind: "agent", agents: options.allowedAgents };
  if (observation.allowed.kind === "agent" && observation.allowed.agents.length === 0) return "Stop"; // budget spent
  const action = router.decide([observation], options)[0]!.action;
  if (action.kind !== "agent") throw new Error("the agent head answered with a mode");
  return action.agent;
}
