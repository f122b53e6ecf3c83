import type { Mode } from "../../policy/actions.js";
import type { Decision, Router } from "../../policy/router.js";
import { createPrng, deriveSeed } from "../../policy/prng.js";
import { LiveEnvironment } from "../../training/live-environment.js";
import type { RewardConfig } from "../../training/rewards.js";
import { playEpisodes, type EpisodeTrace } from "../../training/rollout.js";
import { OrchestratorEpisodeRunner, type EpisodeRunnerOptions, type OrchestratedEpisode } from "./episode-runner.js";
import { askPolicy } from "./engine/ask-policy.js";
import { experimentOutcome, type ExperimentOutcome, type ExperimentSpec } from "./experiment.js";
import { measureExperiment } from "../evaluation/measure-experiment.js";

/**
 * Auto mode's experiments: the meta-controller picks the mode from the task, then the next
 * agent from the episode so far, until it stops or the mode's step budget is spent.
 *
 * The episode is played through training's LiveEnvironment over an OrchestratorEpisodeRunner,
 * exactly as `koderz train-meta --env live` plays it, so the decisions, the rewards
 * (training/rewards.ts) and the trace --learn learns from are the same code in both, and the
 * grader's verdict at the end is the experiment's verdict.
 */
export interface AutoPilot {
  readonly policy: Router;
  readonly rewards: RewardConfig;
  /**
   * Set when learning: decisions are sampled from the policy (seeded per task), because a
   * policy that only ever takes its favourite action learns nothing about the others.
   * Unset: the most probable allowed action, so the same policy always decides the same.
   */
  readonly sampleSeed?: number;
  /** Called once each experiment is stored, with its episode: --learn updates the policy here. */
  afterEpisode?(trace: PolicyTrace): Promise<void>;
}

export type PolicyTrace = EpisodeTrace<Decision>;

export interface AutoExperimentOutcome extends ExperimentOutcome {
  chosenMode: Mode;
  /** How many rungs of the ladder the episode climbed (0 without a ladder). */
  escalations: number;
  trace: PolicyTrace;
}

export async function runAutoExperiment(spec: Omit<ExperimentSpec, "mode"> & Pick<EpisodeRunnerOptions, "ladder">, pilot: AutoPilot): Promise<AutoExperimentOutcome> {
  const started = Date.now();
  const runner = new OrchestratorEpisodeRunner({
    models: spec.models,
    sandbox: spec.sandbox,
    settings: spec.settings,
    budget: spec.budget,
    hiddenTimeoutSeconds: () => spec.hiddenTimeoutSeconds,
    onStep: spec.onStep,
    signal: spec.signal,
    ladder: spec.ladder,
  });
  let episode: OrchestratedEpisode | undefined;
  const environment = new LiveEnvironment({
    tasks: [spec.task],
    rewards: pilot.rewards,
    runner: { start: async (task, mode) => (episode = await runner.start(task, mode)), startModes: runner.startModes },
  });
  const rng = pilot.sampleSeed === undefined ? undefined : createPrng(deriveSeed(pilot.sampleSeed, spec.task.id));
  const [trace] = await playEpisodes([environment], (observations) => askPolicy(pilot.policy, observations, rng));
  const verdict = episode?.verdict;
  if (!episode || !verdict || !trace) throw new Error(`the auto episode of ${spec.task.id} ended without a verdict`);
  const outcome = experimentOutcome(episode.trajectory.steps, episode.result(), verdict, started);
  const measures = await measureExperiment({ sandbox: spec.sandbox, task: spec.task, completion: outcome.completion, steps: episode.trajectory.steps, timeoutSeconds: spec.hiddenTimeoutSeconds, signal: spec.signal });
  return { ...outcome, measures, chosenMode: episode.startMode, escalations: trace.outcome.escalations ?? 0, trace };
}

