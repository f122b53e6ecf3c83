import { AGENT_CHOICES, MODES, type Action, type AgentChoice, type Mode } from "./actions.js";
import type { PublicTask } from "../tasks/task.js";
import { buildFeatureSpec, featureVector, taskFeatures, type EpisodeState, type FeatureSpec } from "./features.js";
import { defaultArchitecture, PolicyNetwork } from "./network.js";
import { observe, type Observation } from "./observation.js";
import { sampleIndex, type Prng } from "./prng.js";

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

/**
 * A trained meta-controller: feature spec + network. The API others use:
 *   policy.chooseMode(task)                  -> "fast" | "standard" | "deep"
 *   policy.chooseNextAgent(task, state)      -> "Planner" | ... | "Stop"
 *   policy.decide([observation, ...])        -> batched decisions with probabilities
 */
export class MetaPolicy {
  /** Task features depend only on the task text; computing them once per task object keeps rollouts cheap. */
  private readonly taskFeatureCache = new WeakMap<PublicTask, Float32Array>();
  /**
   * Greedy decisions escalate only when Escalate's probability is at least this (otherwise the
   * most probable other action): the operating point on the quality-cost curve, calibrated on
   * the training tasks for a success floor (training/escalation-threshold.ts). Unset: plain
   * argmax. Sampling (training) ignores it.
   */
  escalationThreshold: number | undefined;

  constructor(
    readonly featureSpec: FeatureSpec,
    readonly network: PolicyNetwork,
  ) {}

  /** A fresh, untrained policy (near-uniform choices). Needs an active backend (useBackend). */
  static initialise(seed: number, options: { hashBuckets?: number; hiddenSizes?: number[]; taskText?: boolean } = {}): MetaPolicy {
    const spec = buildFeatureSpec(options.hashBuckets, { taskText: options.taskText });
    return new MetaPolicy(spec, PolicyNetwork.initialise(defaultArchitecture(spec.size, options.hiddenSizes), seed));
  }

  chooseMode(task: PublicTask, options: DecisionOptions & { allowedModes?: readonly Mode[] } = {}): Mode {
    const observation = observe(task);
    if (options.allowedModes) observation.allowed = { kind: "mode", modes: options.allowedModes };
    const action = this.decide([observation], options)[0]!.action;
    if (action.kind !== "mode") throw new Error("the mode head answered with an agent");
    return action.mode;
  }

  /** `state.mode` must be set (the mode decision comes first); allowedAgents narrows the mode's rules. */
  chooseNextAgent(
    task: PublicTask,
    state: EpisodeState,
    options: DecisionOptions & { allowedAgents?: readonly AgentChoice[] } = {},
  ): AgentChoice {
    if (state.mode === null) throw new Error("chooseNextAgent needs an episode state with a mode; call chooseMode first");
    const observation = observe(task, state);
    if (options.allowedAgents) observation.allowed = { kind: "agent", agents: options.allowedAgents };
    if (observation.allowed.kind === "agent" && observation.allowed.agents.length === 0) return "Stop"; // budget spent
    const action = this.decide([observation], options)[0]!.action;
    if (action.kind !== "agent") throw new Error("the agent head answered with a mode");
    return action.agent;
  }

  /** Decides for many observations in one forward pass. */
  decide(observations: readonly Observation[], options: DecisionOptions = {}): Decision[] {
    if (observations.length === 0) return [];
    const rows = observations.map((o) => this.features(o));
    const out = this.network.run(rows);
    const threshold = options.escalationThreshold === undefined ? this.escalationThreshold : (options.escalationThreshold ?? undefined);
    const modeWidth = MODES.length;
    const agentWidth = AGENT_CHOICES.length;
    return observations.map((observation, r) => {
      const isMode = observation.allowed.kind === "mode";
      const logits = isMode
        ? out.modeLogits.subarray(r * modeWidth, (r + 1) * modeWidth)
        : out.agentLogits.subarray(r * agentWidth, (r + 1) * agentWidth);
      const mask = allowedMask(observation);
      if (!mask.some(Boolean)) throw new Error("decide() was given an observation with no allowed action");
      const probabilities = maskedSoftmax(logits, mask);
      const index = options.rng ? sampleIndex(probabilities, options.rng) : isMode ? argmax(probabilities) : greedyAgent(probabilities, mask, threshold);
      const action: Action = isMode ? { kind: "mode", mode: MODES[index]! } : { kind: "agent", agent: AGENT_CHOICES[index]! };
      return {
        action,
        head: isMode ? "mode" : "agent",
        actionIndex: index,
        probabilities,
        logProbability: Math.log(probabilities[index]!),
        value: out.values[r]!,
        features: rows[r]!,
        mask,
      };
    });
  }

  /** The network input for an observation. */
  features(observation: Observation): Float32Array {
    let taskPart = this.taskFeatureCache.get(observation.task);
    if (!taskPart) {
      taskPart = taskFeatures(observation.task, this.featureSpec);
      this.taskFeatureCache.set(observation.task, taskPart);
    }
    return featureVector(taskPart, observation.episode, this.featureSpec);
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** Which of the deciding head's outputs are allowed, in head order. */
export function allowedMask(observation: Observation): boolean[] {
  const allowed = observation.allowed;
  return allowed.kind === "mode"
    ? MODES.map((mode) => allowed.modes.includes(mode))
    : AGENT_CHOICES.map((agent) => allowed.agents.includes(agent));
}

const ESCALATE = AGENT_CHOICES.indexOf("Escalate");

/** The most probable allowed agent choice, but Escalate only at or above the threshold (when one is set). */
function greedyAgent(probabilities: Float64Array, mask: readonly boolean[], threshold: number | undefined): number {
  if (threshold === undefined || !mask[ESCALATE]) return argmax(probabilities);
  if (probabilities[ESCALATE]! >= threshold) return ESCALATE;
  return argmax(Float64Array.from(probabilities, (p, i) => (i === ESCALATE || !mask[i] ? -1 : p)));
}

/** Softmax over the allowed entries only, in float64 so greedy ties and sampling are exact. */
export function maskedSoftmax(logits: ArrayLike<number>, mask: readonly boolean[]): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < mask.length; i++) if (mask[i]) max = Math.max(max, logits[i]!);
  const probabilities = new Float64Array(mask.length);
  let total = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    probabilities[i] = Math.exp(logits[i]! - max);
    total += probabilities[i]!;
  }
  for (let i = 0; i < mask.length; i++) probabilities[i]! /= total;
  return probabilities;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
