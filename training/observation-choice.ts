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
 * are split again by task, a policy with and one without the task text train on the larger
 * part, and the one with the higher mean return on the other part (tasks neither saw) wins;
 * ties go to the evidence only, the simpler input. The held-out tasks are never looked at.
 */
export interface ObservationChoice {
  taskText: boolean;
  /** Mean return on the validation tasks of the policy with the task text, and without. */
  validationReturn: { withTaskText: number; evidenceOnly: number };
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
  const meanReturn = async (taskText: boolean): Promise<number> => {
    const result = await trainMetaPolicy({
      episodes: options.episodes,
      seed,
      settings: { ...options.settings, taskText },
      makeEnvironments: (count) => createReplayEnvironments(count, training, seed, options.rewards, options.ladder),
    });
    try {
      const played = await playControllers([policyController(result.policy)], () => createReplayEnvironments(validation.length, validation, seed, options.rewards, options.ladder), 1);
      const outcomes = played.byController[0]!.outcomes;
      return outcomes.reduce((sum, outcome) => sum + outcome.return, 0) / outcomes.length;
    } finally {
      result.policy.dispose();
    }
  };
  const withTaskText = await meanReturn(true);
  const evidenceOnly = await meanReturn(false);
  return { taskText: withTaskText > evidenceOnly, validationReturn: { withTaskText, evidenceOnly }, validationTasks: validation.length };
}
