import { MODES, type Mode } from "../policy/actions.js";
import { KoderzError } from "../src/errors.js";
import type { MetaPolicy } from "../policy/meta-policy.js";
import { baselineControllers, policyController } from "./controllers.js";
import { playControllers } from "./compare-controllers.js";
import { poolHeldOut, type PooledTable, type SeedEpisodes } from "./held-out-table.js";
import { createReplayEnvironments, replayLadder } from "./replay-environment.js";
import { splitReplayLogByTask, type ReplayLog } from "./replay-log.js";
import { chooseTaskText, type ObservationChoice } from "./observation-choice.js";
import { chooseThreshold, thresholdCurve, type ThresholdChoice } from "./escalation-threshold.js";
import { costUnitOf, type RewardConfig } from "./rewards.js";
import { trainMetaPolicy, type PpoSettings, type TrainResult } from "./train.js";

/**
 * A replay study: for each seed, split the log by task, train a policy on the training tasks
 * (the ladder replay: logged arms as rungs, cheapest first), and play it with every baseline
 * on the held-out tasks; then pool the held-out episodes over the seeds (held-out-table.ts).
 * Unless settings.taskText says, each seed first chooses on its training split whether the
 * policy sees the task text (observation-choice.ts).
 * What `koderz train-meta --env replay` and `npm run bench:policy` print.
 */
export interface ReplayStudyOptions {
  log: ReplayLog;
  seeds: readonly number[];
  episodes: number;
  rewards: RewardConfig;
  heldOutFraction: number;
  /**
   * Keep at least this share of the dearest arm's success and pay as little as possible: each
   * seed's policy gets the escalation threshold that does so on its training tasks
   * (escalation-threshold.ts). Unset: greedy decisions.
   */
  successFloor?: number;
  settings?: Partial<PpoSettings>;
  /** Called after each seed's training, e.g. for progress. */
  onSeed?: (seed: number, result: TrainResult) => void | Promise<void>;
  /** Passed to the first seed's training run only (the one whose policy is kept). */
  onEpisode?: Parameters<typeof trainMetaPolicy>[0]["onEpisode"];
  onUpdate?: Parameters<typeof trainMetaPolicy>[0]["onUpdate"];
}

export interface ReplayStudy {
  table: PooledTable;
  ladder: Mode[];
  /** Fixed arms in the table: the modes logged on every task (a mode logged on only some tasks gets no always- row). */
  fixedModes: Mode[];
  /** The first seed's trained policy (the caller disposes it); the others are disposed. */
  policy: MetaPolicy;
  firstResult: TrainResult;
  /** Each seed's training time (the policy that is judged; the choice of observation not included). */
  seconds: number[];
  cpuSeconds: number[];
  /** Each seed's choice of observation, made on its training split; empty when settings.taskText was given. */
  observationChoices: ObservationChoice[];
  /** Each seed's escalation threshold, chosen on its training split; empty without a success floor. */
  thresholdChoices: ThresholdChoice[];
  /** The dearest arm logged on every task, which a success floor is a share of; undefined when none is. */
  dearest: Mode | undefined;
}

/**
 * PPO settings a replay study starts from (options.settings override them). A replay episode is
 * two or three decisions, so a batch of 200 episodes is ~600 rows: one minibatch of the whole
 * batch per epoch, where 256-row minibatches took three small steps, each paying the backend's
 * per-operation overhead again (10 000 episodes: 6 s of processor time instead of 12 here).
 */
export const REPLAY_PPO_SETTINGS: Readonly<Partial<PpoSettings>> = { minibatchSize: 1024 };

export async function runReplayStudy(options: ReplayStudyOptions): Promise<ReplayStudy> {
  if (options.seeds.length === 0) throw new Error("a replay study needs at least one seed");
  const ladder = replayLadder(options.log);
  const fixedModes = modesLoggedOnEveryTask(options.log);
  const perSeed: SeedEpisodes[] = [];
  const seconds: number[] = [];
  const cpuSeconds: number[] = [];
  const observationChoices: ObservationChoice[] = [];
  const thresholdChoices: ThresholdChoice[] = [];
  const dearest = [...ladder].reverse().find((mode) => fixedModes.includes(mode));
  if (options.successFloor !== undefined && !dearest) {
    throw new KoderzError("bad_input", "--success-floor is a share of an arm's success, and no arm of these runs was logged on every task", "replay runs that cover the same tasks, or leave out --success-floor");
  }
  let kept: { policy: MetaPolicy; result: TrainResult } | null = null;
  for (const seed of options.seeds) {
    const { training, heldOut } = splitReplayLogByTask(options.log, options.heldOutFraction, seed);
    if (training.length === 0 || heldOut.length === 0) throw new Error(`a replay needs tasks on both sides of the split; the log has ${options.log.length}`);
    let settings: Partial<PpoSettings> = { ...REPLAY_PPO_SETTINGS, ...options.settings };
    // A choice needs tasks to validate on; with fewer than two training tasks there are none, and the evidence alone is used.
    if (settings.taskText === undefined && training.length < 2) settings = { ...settings, taskText: false };
    if (settings.taskText === undefined) {
      const choice = await chooseTaskText({ training, seed, episodes: options.episodes, rewards: options.rewards, ladder, settings });
      observationChoices.push(choice);
      settings = { ...settings, taskText: choice.taskText };
    }
    const result = await trainMetaPolicy({
      episodes: options.episodes,
      seed,
      makeEnvironments: (count) => createReplayEnvironments(count, training, seed, options.rewards, ladder),
      settings,
      ...(kept ? {} : { onEpisode: options.onEpisode, onUpdate: options.onUpdate }),
    });
    seconds.push(result.seconds);
    cpuSeconds.push(result.cpuSeconds);
    // A threshold is measured out of sample on the training tasks: with fewer than two there is no other task to measure on, and decisions stay greedy.
    if (options.successFloor !== undefined && training.length >= 2) {
      const curve = await thresholdCurve({ training, seed, episodes: options.episodes, rewards: options.rewards, ladder, dearest: dearest!, settings });
      const choice = chooseThreshold(curve, options.successFloor);
      result.policy.escalationThreshold = choice.threshold;
      thresholdChoices.push(choice);
    }
    await options.onSeed?.(seed, result);
    perSeed.push(
      await playControllers(
        [
          policyController(result.policy),
          // With a floor, the uncalibrated policy too: what the threshold bought.
          ...(options.successFloor !== undefined ? [policyController(result.policy, { name: "learned-greedy", escalationThreshold: null })] : []),
          ...baselineControllers(seed, fixedModes),
        ],
        () => createReplayEnvironments(heldOut.length, heldOut, seed, options.rewards, ladder),
        1,
      ),
    );
    if (kept) result.policy.dispose();
    else kept = { policy: result.policy, result };
  }
  return {
    table: poolHeldOut(options.seeds, perSeed, costUnitOf(options.rewards)),
    ladder,
    fixedModes,
    policy: kept!.policy,
    firstResult: kept!.result,
    seconds,
    cpuSeconds,
    observationChoices,
    thresholdChoices,
    dearest,
  };
}

/** One point of the quality-cost curve: the learned policy trained at one cost weight. */
export interface CurvePoint {
  costWeight: number;
  success: number;
  costPerTask: number;
}

/**
 * The quality-cost curve (RouteLLM-style): the learned policy's held-out success and cost as
 * the cost weight sweeps, each point pooled over the seeds. The arms and the cascade are
 * points of the study's table.
 */
export async function qualityCostCurve(options: Omit<ReplayStudyOptions, "onSeed" | "rewards"> & { rewards: RewardConfig; weights: readonly number[] }): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const weight of options.weights) {
    const rewards: RewardConfig = costUnitOf(options.rewards) === "usd" ? { ...options.rewards, costPerUsd: weight } : { ...options.rewards, lambdaPer1000Tokens: weight };
    const study = await runReplayStudy({ ...options, rewards, onEpisode: undefined, onUpdate: undefined });
    study.policy.dispose();
    const learned = study.table.rows.find((row) => row.name === "learned")!;
    points.push({ costWeight: weight, success: learned.success.mean, costPerTask: learned.costPerTask.mean });
  }
  return points;
}

/** One line on what the policies saw: how many seeds chose the task text on their training split. */
export function describeObservationChoices(choices: readonly ObservationChoice[]): string | null {
  if (choices.length === 0) return null;
  const withText = choices.filter((choice) => choice.taskText).length;
  const mean = (f: (choice: ObservationChoice) => number): number => choices.reduce((sum, choice) => sum + f(choice), 0) / choices.length;
  return (
    `observation, chosen per seed on its training split (${choices[0]!.validationTasks} validation tasks): ` +
    `task text + evidence on ${withText} of ${choices.length} seeds, evidence only on ${choices.length - withText} ` +
    `(mean validation return ${mean((c) => c.validationReturn.withTaskText).toFixed(3)} with the task text, ${mean((c) => c.validationReturn.evidenceOnly).toFixed(3)} without; ` +
    `the text is kept only when better by more than one standard error)`
  );
}

/** The modes every task of the log has a run of: only these can have an always-<mode> row. */
export function modesLoggedOnEveryTask(log: ReplayLog): Mode[] {
  return MODES.filter((mode) => log.every((task) => task.configurations.some((c) => c.mode === mode)));
}
