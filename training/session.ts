import type { MetaPolicy } from "../policy/meta-policy.js";
import { baselineControllers, policyController } from "./controllers.js";
import type { Task } from "../tasks/task.js";
import type { Environment, EnvironmentSource, OracleOutcome } from "./environment.js";
import { LiveEnvironment, type LiveEpisodeRunner } from "./live-environment.js";
import { compareControllers, type ControllerComparison } from "./compare-controllers.js";
import type { RewardConfig } from "./rewards.js";
import { createSyntheticEnvironments, heldOutSyntheticSeed } from "./synthetic-environment.js";
import { DEFAULT_PPO_SETTINGS, trainMetaPolicy, type PpoSettings, type TrainOptions, type TrainResult } from "./train.js";

/**
 * A training session: where episodes come from (training and held-out), the training run,
 * then the comparison of the learned policy with the baselines on held-out episodes.
 * What `koderz train-meta` and `npm run bench:policy` do on the simulator and live; a replay
 * of logged runs is a study over several seeds instead (replay-study.ts).
 */
export interface ExperienceSource {
  source: EnvironmentSource;
  /** A batch of environments continuing one stream of training episodes. */
  training: (count: number) => Environment[];
  /**
   * A fresh batch replaying the same held-out episodes each call (same tasks for every
   * controller); null when the comparison is not offered (live: it would play every
   * baseline on real models, and without an oracle).
   */
  heldOut: (() => Environment[]) | null;
  heldOutRounds: number;
  /** One line for the log: what the episodes are. */
  description: string;
  /** PPO settings this experience trains best with (the session's own settings override them). */
  settings?: Partial<PpoSettings>;
}

/**
 * The simulator's PPO settings: a batch of 200 synthetic episodes is ~1000 decisions, and two
 * 512-row minibatches per epoch take half the gradient steps of four 256-row ones, each step
 * paying the backend's per-operation overhead again (the 10 000-episode run is mostly gradient
 * steps).
 */
export const SYNTHETIC_PPO_SETTINGS: Readonly<Partial<PpoSettings>> = { minibatchSize: 512 };

export function syntheticExperience(seed: number, rewards: RewardConfig, heldOutEpisodes: number): ExperienceSource {
  const batch = DEFAULT_PPO_SETTINGS.batchEpisodes;
  // Every controller replays the same held-out episodes: the oracle searches each once.
  const heldOutOracles = new Map<number, OracleOutcome>();
  return {
    source: "synthetic",
    training: (count) => createSyntheticEnvironments(count, seed, rewards),
    heldOut: () => createSyntheticEnvironments(batch, heldOutSyntheticSeed(seed), rewards, heldOutOracles),
    heldOutRounds: Math.max(1, Math.ceil(heldOutEpisodes / batch)),
    description: `SYNTHETIC environment (a simulator with a known optimal policy, not model results); held-out tasks from a separate seed`,
    settings: SYNTHETIC_PPO_SETTINGS,
  };
}

/** The training run's options (train.ts), with its environments taken from an experience source. */
export interface SessionOptions extends Omit<TrainOptions, "makeEnvironments"> {
  experience: ExperienceSource;
}

export async function trainAndCompare(options: SessionOptions): Promise<{ result: TrainResult; comparison: ControllerComparison }> {
  const result = await trainOnExperience(options);
  return { result, comparison: await compareOnHeldOut(result.policy, options.experience, options.seed) };
}

export function trainOnExperience(options: SessionOptions): Promise<TrainResult> {
  const { experience, ...training } = options;
  return trainMetaPolicy({ ...training, settings: { ...experience.settings, ...training.settings }, makeEnvironments: experience.training });
}

/** The learned policy against always-fast / standard / deep, random (and the oracle, when known) on held-out episodes. */
export function compareOnHeldOut(policy: MetaPolicy, experience: ExperienceSource, seed: number): Promise<ControllerComparison> {
  if (!experience.heldOut) throw new Error(`the ${experience.source} experience offers no held-out comparison`);
  return compareControllers([policyController(policy), ...baselineControllers(seed)], experience.heldOut, experience.heldOutRounds);
}

/**
 * Live experience: real agents, models and sandbox through the orchestrator (a
 * LiveEpisodeRunner), over `tasks` in turn. No oracle, so no regret; no held-out comparison.
 */
export function liveExperience(tasks: readonly Task[], runner: LiveEpisodeRunner, rewards: RewardConfig): ExperienceSource {
  return {
    source: "live",
    training: (count) => Array.from({ length: count }, (_, slot) => new LiveEnvironment({ tasks, runner, rewards, firstEpisode: slot, stride: count })),
    heldOut: null,
    heldOutRounds: 0,
    description: `live: real agents, models and sandbox on ${tasks.length} task(s); no oracle, so regret is unavailable`,
  };
}
