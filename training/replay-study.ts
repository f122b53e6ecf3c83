import { MODES, type Mode } from "../policy/actions.js";
import type { MetaPolicy } from "../policy/meta-policy.js";
import { baselineControllers, policyController } from "./controllers.js";
import { playControllers } from "./compare-controllers.js";
import { poolHeldOut, type PooledTable, type SeedEpisodes } from "./held-out-table.js";
import { createReplayEnvironments, replayLadder } from "./replay-environment.js";
import { splitReplayLogByTask, type ReplayLog } from "./replay-log.js";
import { costUnitOf, type RewardConfig } from "./rewards.js";
import { trainMetaPolicy, type PpoSettings, type TrainResult } from "./train.js";

/**
 * A replay study: for each seed, split the log by task, train a policy on the training tasks
 * (the ladder replay: logged arms as rungs, cheapest first), and play it with every baseline
 * on the held-out tasks; then pool the held-out episodes over the seeds (held-out-table.ts).
 * What `koderz train-meta --env replay` and `npm run bench:policy` print.
 */
export interface ReplayStudyOptions {
  log: ReplayLog;
  seeds: readonly number[];
  episodes: number;
  rewards: RewardConfig;
  heldOutFraction: number;
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
  seconds: number[];
}

export async function runReplayStudy(options: ReplayStudyOptions): Promise<ReplayStudy> {
  if (options.seeds.length === 0) throw new Error("a replay study needs at least one seed");
  const ladder = replayLadder(options.log);
  const fixedModes = modesLoggedOnEveryTask(options.log);
  const perSeed: SeedEpisodes[] = [];
  const seconds: number[] = [];
  let kept: { policy: MetaPolicy; result: TrainResult } | null = null;
  for (const seed of options.seeds) {
    const { training, heldOut } = splitReplayLogByTask(options.log, options.heldOutFraction, seed);
    if (training.length === 0 || heldOut.length === 0) throw new Error(`a replay needs tasks on both sides of the split; the log has ${options.log.length}`);
    const result = await trainMetaPolicy({
      episodes: options.episodes,
      seed,
      makeEnvironments: (count) => createReplayEnvironments(count, training, seed, options.rewards, ladder),
      settings: options.settings,
      ...(kept ? {} : { onEpisode: options.onEpisode, onUpdate: options.onUpdate }),
    });
    seconds.push(result.seconds);
    await options.onSeed?.(seed, result);
    perSeed.push(
      await playControllers(
        [policyController(result.policy), ...baselineControllers(seed, fixedModes)],
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

/** The modes every task of the log has a run of: only these can have an always-<mode> row. */
export function modesLoggedOnEveryTask(log: ReplayLog): Mode[] {
  return MODES.filter((mode) => log.every((task) => task.configurations.some((c) => c.mode === mode)));
}
