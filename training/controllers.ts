import { MODES, type Action, type Mode } from "../policy/actions.js";
import type { MetaPolicy } from "../policy/meta-policy.js";
import type { Observation } from "../policy/observation.js";
import { createPrng, type Prng } from "../policy/prng.js";

/**
 * Anything that picks actions for a batch of observations: the learned policy, or one of
 * the baselines it is judged against. Batched because the policy network is.
 */
export interface Controller {
  readonly name: string;
  act(observations: readonly Observation[]): Action[];
}

/** always-<mode>: that mode, then the mode's fixed pipeline (whatever runs without a policy). */
export function fixedModeController(mode: Mode): Controller {
  return {
    name: `always-${mode}`,
    act: (observations) =>
      observations.map((observation): Action => {
        const allowed = observation.allowed;
        if (allowed.kind === "mode") return { kind: "mode", mode: allowed.modes.includes(mode) ? mode : allowed.modes[0]! };
        const next = allowed.pipelineAgent ?? "Stop";
        return { kind: "agent", agent: allowed.agents.includes(next) ? next : "Stop" };
      }),
  };
}

/** Uniformly random among the allowed modes, then among the allowed agents and Stop. Seeded. */
export function randomController(seed: number): Controller {
  const rng = createPrng(seed);
  return {
    name: "random",
    act: (observations) =>
      observations.map((observation): Action => {
        const allowed = observation.allowed;
        if (allowed.kind === "mode") return { kind: "mode", mode: pickFrom(allowed.modes, rng) };
        return { kind: "agent", agent: pickFrom(allowed.agents.length ? allowed.agents : (["Stop"] as const), rng) };
      }),
  };
}

/** The learned policy: greedy by default, sampling from a seeded generator when `sampleSeed` is given. */
export function policyController(policy: MetaPolicy, options: { name?: string; sampleSeed?: number } = {}): Controller {
  const rng = options.sampleSeed === undefined ? undefined : createPrng(options.sampleSeed);
  return {
    name: options.name ?? "learned",
    act: (observations) => policy.decide(observations, { rng }).map((decision) => decision.action),
  };
}

/** The baselines of the comparison table, in display order. */
export function baselineControllers(seed: number): Controller[] {
  return [...MODES.map(fixedModeController), randomController(seed)];
}

function pickFrom<T>(items: readonly T[], rng: Prng): T {
  return items[rng.int(items.length)]!;
}
