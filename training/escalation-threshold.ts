import type { Mode } from "../policy/actions.js";
import { deriveSeed } from "../policy/prng.js";
import { playControllers } from "./compare-controllers.js";
import { fixedModeController, policyController } from "./controllers.js";
import { createReplayEnvironments } from "./replay-environment.js";
import { shuffledByTask, type ReplayLog } from "./replay-log.js";
import type { RewardConfig } from "./rewards.js";
import { trainMetaPolicy, type PpoSettings } from "./train.js";

/**
 * Where on the quality-cost curve a trained replay policy should sit, for a user who says "keep
 * at least this share of the dearest arm's success, and pay as little as possible" (RouteLLM
 * calibrates its router's threshold the same way). The network ranks the states by how much an
 * escalation pays; the threshold on Escalate's probability picks how many of them escalate.
 *
 * Measured on the training tasks only, and out of sample: the training tasks are cut into
 * FOLDS parts by task, a policy trained on the rest plays each part at every threshold of the
 * grid, beside the dearest arm. On the tasks it trained on, a policy looks better than it is
 * (it has seen their outcomes), and a threshold chosen there skims the floor and falls under it
 * on new tasks. The chosen threshold is the highest (the fewest escalations) whose pooled
 * success is at least the floor's share of the dearest arm's; with none, the lowest (the most
 * escalations). The held-out tasks are never looked at.
 */
export interface ThresholdPoint {
  threshold: number;
  /** Out of sample on the training tasks: success and dollars as shares of the dearest arm's. */
  successShare: number;
  costShare: number;
}

export interface ThresholdChoice extends ThresholdPoint {
  /** Whether the floor was met; false means even the lowest threshold fell short. */
  floorMet: boolean;
}

/** Escalate's probabilities worth telling apart (a policy trained on dollars is often very sure); 1: escalate only when certain. */
export const THRESHOLD_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1] as const;
export const FOLDS = 4;

export interface ThresholdCurveOptions {
  training: ReplayLog;
  seed: number;
  /** Training episodes of each fold's policy. */
  episodes: number;
  rewards: RewardConfig;
  ladder: readonly Mode[];
  /** The arm the shares are of: the dearest one logged on every task. */
  dearest: Mode;
  settings?: Partial<PpoSettings>;
}

/** Each threshold's success and cost on the training tasks, out of sample (FOLDS-fold, by task). */
export async function thresholdCurve(options: ThresholdCurveOptions): Promise<ThresholdPoint[]> {
  const { rewards, ladder } = options;
  const reference = { success: 0, costUsd: 0 };
  const sums = THRESHOLD_GRID.map(() => ({ success: 0, costUsd: 0 }));
  for (const [index, { fit, check }] of foldsByTask(options.training, options.seed).entries()) {
    const seed = deriveSeed(options.seed, "fold", index);
    const result = await trainMetaPolicy({
      episodes: options.episodes,
      seed,
      settings: options.settings,
      makeEnvironments: (count) => createReplayEnvironments(count, fit, seed, rewards, ladder),
    });
    try {
      // The dearest arm first, then the policy at each threshold, each on fresh replays of the held-out fold.
      const controllers = [fixedModeController(options.dearest), ...THRESHOLD_GRID.map((threshold) => policyController(result.policy, { escalationThreshold: threshold }))];
      const played = await playControllers(controllers, () => createReplayEnvironments(check.length, check, seed, rewards, ladder), 1);
      played.byController.forEach(({ outcomes }, i) => {
        const into = i === 0 ? reference : sums[i - 1]!;
        for (const outcome of outcomes) {
          into.success += outcome.success ? 1 : 0;
          into.costUsd += outcome.costUsd;
        }
      });
    } finally {
      result.policy.dispose();
    }
  }
  return THRESHOLD_GRID.map((threshold, i) => ({
    threshold,
    successShare: reference.success > 0 ? sums[i]!.success / reference.success : 1,
    costShare: reference.costUsd > 0 ? sums[i]!.costUsd / reference.costUsd : 0,
  }));
}

/** The highest threshold whose success share meets the floor; with none, the lowest. */
export function chooseThreshold(points: readonly ThresholdPoint[], successFloor: number): ThresholdChoice {
  const choices = points.map((point) => ({ ...point, floorMet: point.successShare >= successFloor }));
  return choices.filter((choice) => choice.floorMet).at(-1) ?? choices[0]!;
}

/** The tasks cut into FOLDS parts (fewer with fewer tasks), each with the rest to train on. */
function foldsByTask(log: ReplayLog, seed: number): { fit: ReplayLog; check: ReplayLog }[] {
  const ranked = shuffledByTask(log, seed, "folds");
  const count = Math.min(FOLDS, ranked.length);
  return Array.from({ length: count }, (_, fold) => ({
    fit: ranked.filter((_, i) => i % count !== fold),
    check: ranked.filter((_, i) => i % count === fold),
  }));
}

/** One line on the thresholds the seeds chose, and what they kept and paid out of sample on their training tasks. */
export function describeThresholdChoices(choices: readonly ThresholdChoice[], successFloor: number, dearest: Mode): string | null {
  if (choices.length === 0) return null;
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const short = choices.filter((choice) => !choice.floorMet).length;
  return (
    `escalation threshold, chosen per seed on its training tasks (${FOLDS}-fold) for a success floor of ${percent(successFloor)} of always-${dearest}'s: ` +
    choices.map((choice) => `${choice.threshold} (${percent(choice.successShare)} of its success at ${percent(choice.costShare)} of its cost)`).join(", ") +
    (short ? `; ${short} seed(s) could not meet the floor on their training tasks and escalate the most` : "")
  );
}
