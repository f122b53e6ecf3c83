import * as tf from "@tensorflow/tfjs";
import type { Decision, MetaPolicy } from "../policy/meta-policy.js";
import { savePolicy, type TrainingMetadata } from "../policy/policy-file.js";
import { createPrng, deriveSeed, type Prng } from "../policy/prng.js";
import type { EpisodeTrace } from "./rollout.js";
import { DEFAULT_PPO_SETTINGS, ppoUpdate, type PpoSettings } from "./train.js";

/**
 * Online learning: one PPO update per finished episode, then the policy is saved (through
 * savePolicy's temporary file and rename), so a run killed at any point keeps every update it
 * made. What `koderz benchmark --mode auto --learn` does after each task.
 *
 * The update is train.ts's, with settings for batches of one episode: advantages are not
 * normalised (the value head is the baseline), a smaller learning rate and a fixed, small
 * entropy bonus, because a policy fine-tuned on a handful of real episodes must not forget
 * what it learned from thousands. Updates are queued one after another, so with several
 * episodes in flight each update and save sees the result of the one before.
 */
export const ONLINE_PPO_SETTINGS: Readonly<PpoSettings> = {
  ...DEFAULT_PPO_SETTINGS,
  batchEpisodes: 1,
  epochs: 4,
  minibatchSize: 64,
  learningRate: 5e-4,
  normaliseAdvantages: false,
};
export const ONLINE_ENTROPY_COEFFICIENT = 0.01;

export interface OnlineLearnerOptions {
  /** Where the policy is saved after each update. */
  savePath: string;
  /** How the policy was trained before; each save adds the online episodes to it. */
  trainedBefore: TrainingMetadata;
  /** One line on where the online episodes come from, e.g. "benchmark run bench_...". */
  source: string;
  seed: number;
}

export class OnlineLearner {
  private readonly optimizer: tf.Optimizer;
  private readonly minibatchRng: Prng;
  private queue: Promise<unknown> = Promise.resolve();
  private done = 0;

  constructor(
    readonly policy: MetaPolicy,
    private readonly options: OnlineLearnerOptions,
  ) {
    this.optimizer = tf.train.adam(ONLINE_PPO_SETTINGS.learningRate);
    this.minibatchRng = createPrng(deriveSeed(options.seed, "online-minibatches"));
  }

  /** Policy updates made (and saved) so far. */
  get updates(): number {
    return this.done;
  }

  /** Learns from one episode and saves the policy; resolves when both are done. */
  learn(trace: EpisodeTrace<Decision>): Promise<void> {
    const next = this.queue.then(async () => {
      ppoUpdate(this.policy, this.optimizer, [trace], ONLINE_PPO_SETTINGS, ONLINE_ENTROPY_COEFFICIENT, this.minibatchRng);
      this.done += 1;
      await savePolicy(this.options.savePath, this.policy, this.metadata());
    });
    // A failed update or save is reported to its caller; the queue itself carries on.
    this.queue = next.catch(() => undefined);
    return next;
  }

  dispose(): void {
    this.optimizer.dispose();
  }

  /** Labelled live from now on: the policy has learned from real models; the note keeps its history. */
  private metadata(): TrainingMetadata {
    // The summary's figures described the policy before these updates; they no longer hold.
    const { summary: _stale, ...before } = this.options.trainedBefore;
    const history = before.note ? `${before.note}; then ` : "";
    return {
      ...before,
      env: "live",
      synthetic: false,
      episodes: before.episodes + this.done,
      trainedAt: new Date().toISOString(),
      note: `${history}${this.done} online update(s), one per episode, from ${this.options.source}`,
    };
  }
}
