import type { Mode } from "../policy/actions.js";
import { deriveSeed } from "../policy/prng.js";
import { playControllers } from "./compare-controllers.js";
import { policyController } from "./controllers.js";
import { createReplayEnvironments } from "./replay-environment.js";
import { splitReplayLogByTask, type ReplayLog } from "./replay-log.js";
import type { RewardConfig } from "./rewards.js";
import { trainMetaPolicy, type PpoSettings } from "./train.js";

/**
 * Whether a replay policy should see the task text, chosen on the training split only.
 *
 * A replay log has a few hundred tasks, each replayed tens of times in training, and the task
 * text's features (length, signature, hashed words) tell the tasks apart: a network that sees
 * them can memorise which tasks pay for the dearer rung instead of learning to read the
 * evidence (the visible examples' results after each rung), and memorised tasks do not carry
 * over to new ones. Which way it goes depends on the log, so it is measured: the training tasks
 * are split again by task, and a policy with and one without the task text train on the larger
 * part and play the other (tasks neither saw). The task text is kept only when its policy's
 * mean return there is higher by more than one standard error of the paired per-task
 * difference (the one-standard-error rule: a few dozen validation tasks cannot tell apart
 * policies closer than that, and then the simpler input wins). The held-out tasks are never
 * looked at.
 */
export interface ObservationChoice {
  taskText: boolean;
  /** Mean return on the validation tasks of the policy with the task text, and without. */
  validationReturn: { withTaskText: number; evidenceOnly: number };
  /** Standard error of the mean per-task difference between the two. */
  standardError: number;
  validationTasks: number;
}

export const VALIDATION_FRACTION = 0.25;

export async function chooseTaskText(options: {
  training: ReplayLog;
  seed: number;
  episodes: number;
  rewards: RewardConfig;
  ladder: readonly Mode[];
  settings?: Partial<PpoSettings>;
}): Promise<ObservationChoice> {
  const seed = deriveSeed(options.seed, "validation");
  const { training, heldOut: validation } = splitReplayLogByTask(options.training, VALIDATION_FRACTION, seed);
  const returns = async (taskText: boolean): Promise<Map<string, number>> => {
    const result = await trainMetaPolicy({
      episodes: options.episodes,
      seed,
      settings: { ...options.settings, taskText },
      makeEnvironments: (count) => createReplayEnvironments(count, training, seed, options.rewards, options.ladder),
    });
    try {
      const played = await playControllers([policyController(result.policy)], () => createReplayEnvironments(validation.length, validation, seed, options.rewards, options.ladder), 1);
      return new Map(played.byController[0]!.outcomes.map((outcome) => [outcome.taskId, outcome.return]));
    } finally {
      result.policy.dispose();
    }
  };
  const withText = await returns(true);
  const evidence = await returns(false);
  const differences = [...withText].map(([taskId, value]) => value - evidence.get(taskId)!);
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  const meanDifference = mean(differences);
  const variance = differences.length > 1 ? differences.reduce((sum, d) => sum + (d - meanDifference) ** 2, 0) / (differences.length - 1) : 0;
  const standardError = Math.sqrt(variance / differences.length);
  return {
    taskText: meanDifference > standardError,
    validationReturn: { withTaskText: mean([...withText.values()]), evidenceOnly: mean([...evidence.values()]) },
    standardError,
    validationTasks: validation.length,
  };
}
