import type { Action } from "../policy/actions.js";
import type { Observation } from "../policy/observation.js";
import type { EpisodeOutcome, Environment } from "./environment.js";

/** One decision of an episode and what it earned; `choice` is whatever the decider attached (e.g. log-probabilities). */
export interface TraceStep<C> {
  observation: Observation;
  choice: C;
  reward: number;
}

export interface EpisodeTrace<C> {
  steps: TraceStep<C>[];
  outcome: EpisodeOutcome;
}

/**
 * Plays one episode in each environment, all in lockstep, so every round of decisions is
 * one batched call (one forward pass of the network for the whole batch).
 */
export async function playEpisodes<C extends { action: Action }>(
  environments: readonly Environment[],
  decide: (observations: Observation[]) => C[],
): Promise<EpisodeTrace<C>[]> {
  const traces: (EpisodeTrace<C> | null)[] = environments.map(() => null);
  const steps: TraceStep<C>[][] = environments.map(() => []);
  let current: (Observation | null)[] = await Promise.all(environments.map((env) => env.reset()));

  while (current.some((observation) => observation !== null)) {
    const active = current.flatMap((observation, i) => (observation ? [i] : []));
    const choices = decide(active.map((i) => current[i]!));
    const results = await Promise.all(active.map((i, k) => environments[i]!.step(choices[k]!.action)));
    const next = [...current];
    active.forEach((i, k) => {
      const result = results[k]!;
      steps[i]!.push({ observation: current[i]!, choice: choices[k]!, reward: result.reward });
      if (result.done) {
        if (!result.info.outcome) throw new Error(`the ${environments[i]!.source} environment ended an episode without its outcome`);
        traces[i] = { steps: steps[i]!, outcome: result.info.outcome };
        next[i] = null;
      } else next[i] = result.state;
    });
    current = next;
  }
  return traces as EpisodeTrace<C>[];
}

/** Adapts a controller's act() to playEpisodes' decide(). */
export function actionsOnly(act: (observations: readonly Observation[]) => Action[]): (observations: Observation[]) => { action: Action }[] {
  return (observations) => act(observations).map((action) => ({ action }));
}
