import { AGENT_CHOICES, MODES, type Action, type AgentChoice, type Mode } from "./actions.js";
import type { PublicTask } from "../tasks/task.js";
import { buildFeatureSpec, featureSpecDifference, featureVector, taskFeatures, type EpisodeState, type FeatureSpec } from "./features.js";
import { chooseModeOf, chooseNextAgentOf, type Router } from "./router.js";
import { defaultArchitecture, PolicyNetwork } from "./network.js";
import type { Observation } from "./observation.js";
import { sampleIndex } from "./prng.js";

export type { Decision, DecisionOptions } from "./router.js";
import type { Decision, DecisionOptions } from "./router.js";

/**
 * A trained meta-controller: feature spec + network. The API others use:
 *   policy.chooseMode(task)                  -> "fast" | "standard" | "deep"
 *   policy.chooseNextAgent(task, state)      -> "Planner" | ... | "Stop"
 *   policy.decide([observation, ...])        -> batched decisions with probabilities
 */
export class MetaPolicy implements Router {
  readonly kind = "network" as const;
  /** Task features depend only on the task text; computing them once per task object keeps rollouts cheap. */
  private readonly taskFeatureCache = new WeakMap<PublicTask, Float32Array>();
  /**
   * Greedy decisions escalate only when Escalate's probability is at least this (otherwise the
   * most probable other action): the operating point on the quality-cost curve, calibrated on
   * the training tasks for a success floor (training/escalation-threshold.ts). Unset: plain
   * argmax. Sampling (training) ignores it.
   */
  escalationThreshold: number | undefined;

  /**
   * The networks whose choices are averaged (an ensemble over the folds of a cross-validation,
   * whose members each saw other tasks); training updates the first, `network`.
   */
  readonly networks: readonly PolicyNetwork[];

  constructor(
    readonly featureSpec: FeatureSpec,
    readonly network: PolicyNetwork,
    members: readonly PolicyNetwork[] = [],
  ) {
    this.networks = [network, ...members];
  }

  /** A fresh, untrained policy (near-uniform choices). Needs an active backend (useBackend). */
  static initialise(seed: number, options: { hashBuckets?: number; hiddenSizes?: number[]; taskText?: boolean; ladder?: boolean } = {}): MetaPolicy {
    const spec = buildFeatureSpec(options.hashBuckets, { taskText: options.taskText, ladder: options.ladder });
    return new MetaPolicy(spec, PolicyNetwork.initialise(defaultArchitecture(spec.size, options.hiddenSizes), seed));
  }

  /** One policy whose decisions average these policies' probabilities (same features and architecture); it owns their networks. */
  static ensemble(policies: readonly MetaPolicy[]): MetaPolicy {
    const [first, ...rest] = policies;
    if (!first) throw new Error("an ensemble needs at least one policy");
    for (const other of rest) {
      if (featureSpecDifference(other.featureSpec, first.featureSpec)) throw new Error("an ensemble's policies must read the same features");
    }
    return new MetaPolicy(first.featureSpec, first.network, [...first.networks.slice(1), ...rest.flatMap((policy) => policy.networks)]);
  }

  chooseMode(task: PublicTask, options: DecisionOptions & { allowedModes?: readonly Mode[] } = {}): Mode {
    return chooseModeOf(this, task, options);
  }

  /** `state.mode` must be set (the mode decision comes first); allowedAgents narrows the mode's rules. */
  chooseNextAgent(task: PublicTask, state: EpisodeState, options: DecisionOptions & { allowedAgents?: readonly AgentChoice[] } = {}): AgentChoice {
    return chooseNextAgentOf(this, task, state, options);
  }

  /** Decides for many observations in one forward pass. */
  decide(observations: readonly Observation[], options: DecisionOptions = {}): Decision[] {
    if (observations.length === 0) return [];
    const rows = observations.map((o) => this.features(o));
    const outs = this.networks.map((network) => network.run(rows));
    const threshold = options.escalationThreshold === undefined ? this.escalationThreshold : (options.escalationThreshold ?? undefined);
    const modeWidth = MODES.length;
    const agentWidth = AGENT_CHOICES.length;
    return observations.map((observation, r) => {
      const isMode = observation.allowed.kind === "mode";
      const mask = allowedMask(observation);
      if (!mask.some(Boolean)) throw new Error("decide() was given an observation with no allowed action");
      // An ensemble's distribution is the mean of its members'.
      const probabilities = new Float64Array(mask.length);
      for (const out of outs) {
        const logits = isMode ? out.modeLogits.subarray(r * modeWidth, (r + 1) * modeWidth) : out.agentLogits.subarray(r * agentWidth, (r + 1) * agentWidth);
        maskedSoftmax(logits, mask).forEach((p, i) => (probabilities[i]! += p / outs.length));
      }
      const index = options.rng ? sampleIndex(probabilities, options.rng) : isMode ? argmax(probabilities) : greedyAgent(probabilities, mask, threshold);
      const action: Action = isMode ? { kind: "mode", mode: MODES[index]! } : { kind: "agent", agent: AGENT_CHOICES[index]! };
      return {
        action,
        head: isMode ? "mode" : "agent",
        actionIndex: index,
        probabilities,
        logProbability: Math.log(probabilities[index]!),
        value: outs.reduce((sum, out) => sum + out.values[r]!, 0) / outs.length,
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
    for (const network of this.networks) network.dispose();
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
