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

/**
 * always-<mode>: that mode, then the mode's fixed pipeline (whatever runs without a policy).
 * An episode that does not offer the mode is refused, never played as another mode under
 * this name: a table only has rows for modes with logs (see loggedModes).
 */
export function fixedModeController(mode: Mode): Controller {
  return {
    name: `always-${mode}`,
    act: (observations) =>
      observations.map((observation): Action => {
        const allowed = observation.allowed;
        if (allowed.kind === "mode") {
          if (!allowed.modes.includes(mode)) throw new Error(`always-${mode} cannot play ${observation.task.id}: no ${mode} run is offered (only ${allowed.modes.join(", ")})`);
          return { kind: "mode", mode };
        }
        const next = allowed.pipelineAgent ?? "Stop";
        return { kind: "agent", agent: allowed.agents.includes(next) ? next : "Stop" };
      }),
  };
}

/**
 * The hand cascade (FrugalGPT / AutoMix shape), the rule anyone can write in ten lines:
 * start on the cheapest rung (environments list modes cheapest first), run its pipeline, and
 * when it is done escalate only when a visible check failed (a docstring example fails, or
 * the code does not run, which fails them all); otherwise stop.
 */
export function cascadeController(): Controller {
  return {
    name: "cascade",
    act: (observations) =>
      observations.map((observation): Action => {
        const allowed = observation.allowed;
        if (allowed.kind === "mode") return { kind: "mode", mode: allowed.modes[0]! };
        if (allowed.pipelineAgent && allowed.agents.includes(allowed.pipelineAgent)) return { kind: "agent", agent: allowed.pipelineAgent };
        const { visibleTestsRun, visiblePassFraction } = observation.episode;
        const failing = visibleTestsRun && visiblePassFraction < 1;
        return { kind: "agent", agent: failing && allowed.agents.includes("Escalate") ? "Escalate" : "Stop" };
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

/**
 * The learned policy: greedy by default, sampling from a seeded generator when `sampleSeed` is
 * given. Greedy decisions use the policy's escalation threshold unless `escalationThreshold`
 * says another (null: plain argmax).
 */
export function policyController(policy: MetaPolicy, options: { name?: string; sampleSeed?: number; escalationThreshold?: number | null } = {}): Controller {
  const rng = options.sampleSeed === undefined ? undefined : createPrng(options.sampleSeed);
  const decision = { rng, ...(options.escalationThreshold !== undefined ? { escalationThreshold: options.escalationThreshold } : {}) };
  return {
    name: options.name ?? "learned",
    act: (observations) => policy.decide(observations, decision).map((choice) => choice.action),
  };
}

/** The baselines of the comparison table, in display order: a fixed row per offered mode, the cascade, random. */
export function baselineControllers(seed: number, modes: readonly Mode[] = MODES): Controller[] {
  return [...modes.map(fixedModeController), cascadeController(), randomController(seed)];
}

function pickFrom<T>(items: readonly T[], rng: Prng): T {
  return items[rng.int(items.length)]!;
}
