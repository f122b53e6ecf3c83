import type { Mode } from "../policy/actions.js";
import type { MetaPolicy } from "../policy/meta-policy.js";
import { playControllers } from "./compare-controllers.js";
import { fixedModeController, policyController } from "./controllers.js";
import { createReplayEnvironments } from "./replay-environment.js";
import type { ReplayLog } from "./replay-log.js";
import type { RewardConfig } from "./rewards.js";

/**
 * Where on the quality-cost curve a trained replay policy should sit, for a user who says "keep
 * at least this share of the dearest arm's success, and pay as little as possible" (RouteLLM
 * calibrates its router's threshold the same way). The network ranks the states by how much an
 * escalation pays; the threshold on Escalate's probability picks how many of them escalate.
 * Calibrated on the training tasks only, by playing the policy at each threshold of a grid and
 * the dearest arm on them: the highest threshold (the fewest escalations) whose success there is
 * at least `successFloor` of the dearest arm's. With no threshold meeting it, the lowest (the
 * most escalations). The held-out tasks are never looked at.
 */
export interface ThresholdChoice {
  threshold: number;
  /** On the training tasks at that threshold: success and dollars as shares of the dearest arm's. */
  successShare: number;
  costShare: number;
  /** Whether the floor was met there; false means even the lowest threshold fell short. */
  floorMet: boolean;
}

/** Escalate's probabilities worth telling apart (a policy trained on dollars is often very sure); 1: escalate only when certain. */
export const THRESHOLD_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1] as const;

export async function calibrateEscalationThreshold(options: {
  policy: MetaPolicy;
  training: ReplayLog;
  seed: number;
  rewards: RewardConfig;
  ladder: readonly Mode[];
  /** The arm the floor is a share of: the dearest one logged on every task. */
  dearest: Mode;
  successFloor: number;
}): Promise<ThresholdChoice> {
  const { policy, training, seed, rewards, ladder, dearest } = options;
  const environments = () => createReplayEnvironments(training.length, training, seed, rewards, ladder);
  const totals = (outcomes: readonly { success: boolean; costUsd: number }[]) => ({
    success: outcomes.filter((outcome) => outcome.success).length,
    costUsd: outcomes.reduce((sum, outcome) => sum + outcome.costUsd, 0),
  });
  const reference = totals((await playControllers([fixedModeController(dearest)], environments, 1)).byController[0]!.outcomes);
  const choices: ThresholdChoice[] = [];
  for (const threshold of THRESHOLD_GRID) {
    const played = totals((await playControllers([policyController(policy, { escalationThreshold: threshold })], environments, 1)).byController[0]!.outcomes);
    const successShare = reference.success > 0 ? played.success / reference.success : 1;
    const costShare = reference.costUsd > 0 ? played.costUsd / reference.costUsd : 0;
    choices.push({ threshold, successShare, costShare, floorMet: successShare >= options.successFloor });
  }
  return choices.filter((choice) => choice.floorMet).at(-1) ?? choices[0]!;
}

/** One line on the thresholds the seeds chose, and what they kept and paid on their training tasks. */
export function describeThresholdChoices(choices: readonly ThresholdChoice[], successFloor: number, dearest: Mode): string | null {
  if (choices.length === 0) return null;
  const percent = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const short = choices.filter((choice) => !choice.floorMet).length;
  return (
    `escalation threshold, chosen per seed on its training tasks for a success floor of ${percent(successFloor)} of always-${dearest}'s: ` +
    choices.map((choice) => `${choice.threshold} (${percent(choice.successShare)} of its success at ${percent(choice.costShare)} of its cost)`).join(", ") +
    (short ? `; ${short} seed(s) could not meet the floor on their training tasks and escalate the most` : "")
  );
}
