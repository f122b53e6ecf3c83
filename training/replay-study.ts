import { MODES, type Mode } from "../policy/actions.js";
import { KoderzError } from "../src/errors.js";
import type { Router } from "../policy/router.js";
import { RulePolicy, ruleName } from "../policy/rule-policy.js";
import { fixedModeController, randomController, type Controller } from "./controllers.js";
import { playControllers } from "./compare-controllers.js";
import { poolHeldOut, type PooledTable, type SeedEpisodes } from "./held-out-table.js";
import { createReplayEnvironments, replayLadder, replayLadderCosts } from "./replay-environment.js";
import { splitReplayLogByTask, type ReplayLog } from "./replay-log.js";
import { chosenRouter, routerController, ruleCandidates, selectRouter, type RouterSelection } from "./router-selection.js";
import { costUnitOf, type RewardConfig } from "./rewards.js";
import type { PpoSettings } from "./train.js";

/**
 * A replay study: for each seed, split the log by task; on the training tasks, choose the
 * controller out of sample among the learned policy and the rules a user could write
 * (router-selection.ts: cross-validation by task, the learned candidate an ensemble of the fold
 * policies at a threshold chosen on a confidence bound); then play the chosen controller and
 * every candidate on the held-out tasks, with the fixed arms, random and the oracle, and pool
 * the held-out episodes over the seeds (held-out-table.ts).
 *
 * The learned policy reads the ladder features (policy/features.ts), which mean the same on any
 * ladder, so a study may evaluate on another ladder's logs (evalLog: train-meta --eval-runs):
 * its tasks held out by the same split (a task trained on is never evaluated on), its own
 * rungs and price list.
 * What `koderz train-meta --env replay` and `npm run bench:policy` print.
 */
export interface ReplayStudyOptions {
  log: ReplayLog;
  seeds: readonly number[];
  /** Training episodes of each fold's policy. */
  episodes: number;
  rewards: RewardConfig;
  heldOutFraction: number;
  /**
   * Keep at least this share of the dearest arm's success and pay as little as possible: the
   * learned policy's threshold and the chosen controller must keep it at the lower end of the
   * interval, on the training tasks. Unset: the highest mean return is chosen.
   */
  successFloor?: number;
  /** Another ladder's logs to evaluate on instead of the held-out tasks of `log`. */
  evalLog?: ReplayLog;
  settings?: Partial<PpoSettings>;
  /** Called after each seed's selection, e.g. for progress. */
  onSeed?: (seed: number, selection: SeedSelection) => void | Promise<void>;
}

/** A seed's selection as the study keeps it (its policies are disposed, but the first seed's chosen router). */
export type SeedSelection = Omit<RouterSelection, "learned"> & { seed: number; seconds: number; cpuSeconds: number };

export interface ReplayStudy {
  table: PooledTable;
  /** The rungs trained on, cheapest first, and those evaluated on (the same without evalLog). */
  ladder: Mode[];
  evalLadder: Mode[];
  /** Fixed arms in the table: the modes logged on every evaluated task. */
  fixedModes: Mode[];
  /** The first seed's chosen controller: a network (the ensemble) or a rule; the caller disposes it. */
  router: Router;
  selections: SeedSelection[];
  /** The dearest arm logged on every training task, which a success floor is a share of. */
  dearest: Mode;
}

/** PPO settings a replay study starts from: the ladder features, one minibatch per epoch (a replay episode is two or three decisions). */
export const REPLAY_PPO_SETTINGS: Readonly<Partial<PpoSettings>> = { minibatchSize: 1024, taskText: false, ladderFeatures: true, hiddenSizes: [32, 32] };

export async function runReplayStudy(options: ReplayStudyOptions): Promise<ReplayStudy> {
  if (options.seeds.length === 0) throw new Error("a replay study needs at least one seed");
  const ladder = replayLadder(options.log);
  const evaluated = options.evalLog ?? options.log;
  const evalLadder = replayLadder(evaluated);
  const dearest = [...ladder].reverse().find((mode) => modesLoggedOnEveryTask(options.log).includes(mode));
  if (!dearest) {
    throw new KoderzError("bad_input", "no arm of these runs was logged on every task, so no arm is a reference for success and cost", "replay runs that cover the same tasks");
  }
  const settings: Partial<PpoSettings> = { ...REPLAY_PPO_SETTINGS, ...options.settings };
  const perSeed: SeedEpisodes[] = [];
  const selections: SeedSelection[] = [];
  let kept: Router | null = null;
  for (const seed of options.seeds) {
    const { training, heldOut } = splitReplayLogByTask(options.log, options.heldOutFraction, seed);
    if (training.length < 2 || heldOut.length === 0) throw new KoderzError("bad_input", `a replay study needs at least 2 training tasks and 1 held-out task; the log has ${options.log.length}`, "replay runs over more tasks");
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const selection = await selectRouter({
      training,
      seed,
      episodes: options.episodes,
      rewards: options.rewards,
      ladder,
      ladderCosts: replayLadderCosts(training, ladder),
      dearest,
      ...(options.successFloor !== undefined ? { successFloor: options.successFloor } : {}),
      settings,
    });
    const cpu = process.cpuUsage(cpuStarted);
    const { learned, ...record } = selection;
    const seedSelection: SeedSelection = { ...record, seed, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    selections.push(seedSelection);
    await options.onSeed?.(seed, seedSelection);

    // Held out: the tasks this seed never trained on, on the evaluated ladder with its own price list (from its training tasks when it has them).
    const trainingIds = new Set(training.map((task) => task.task.id));
    const evalTasks = options.evalLog ? evaluated.filter((task) => !trainingIds.has(task.task.id)) : heldOut;
    const priceTasks = options.evalLog ? evaluated.filter((task) => trainingIds.has(task.task.id)) : training;
    const evalCosts = replayLadderCosts(priceTasks.length ? priceTasks : evaluated, evalLadder);
    const chosen = chosenRouter(selection);
    const controllers: Controller[] = [
      routerController(chosen, "chosen"),
      routerController(learned, "learned"),
      ...ruleCandidates(evalLadder.length).map((rule) => routerController(new RulePolicy(rule), ruleName(rule))),
      ...modesLoggedOnEveryTask(evaluated).map(fixedModeController),
      randomController(seed),
    ];
    perSeed.push(await playControllers(controllers, () => createReplayEnvironments(evalTasks.length, evalTasks, seed, options.rewards, evalLadder, evalCosts), 1));
    if (kept) chosen.dispose();
    else kept = chosen;
    if (kept !== learned) learned.dispose();
  }
  return {
    table: poolHeldOut(options.seeds, perSeed, costUnitOf(options.rewards)),
    ladder,
    evalLadder,
    fixedModes: modesLoggedOnEveryTask(evaluated),
    router: kept!,
    selections,
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
 * the cost weight sweeps, each point pooled over the seeds. The arms and the cascades are
 * points of the study's table.
 */
export async function qualityCostCurve(options: Omit<ReplayStudyOptions, "onSeed" | "rewards"> & { rewards: RewardConfig; weights: readonly number[] }): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const weight of options.weights) {
    const rewards: RewardConfig = costUnitOf(options.rewards) === "usd" ? { ...options.rewards, costPerUsd: weight } : { ...options.rewards, lambdaPer1000Tokens: weight };
    const study = await runReplayStudy({ ...options, rewards });
    study.router.dispose();
    const learned = study.table.rows.find((row) => row.name === "learned")!;
    points.push({ costWeight: weight, success: learned.success.mean, costPerTask: learned.costPerTask.mean });
  }
  return points;
}

/** The modes every task of the log has a run of: only these can have an always-<mode> row. */
export function modesLoggedOnEveryTask(log: ReplayLog): Mode[] {
  return MODES.filter((mode) => log.every((task) => task.configurations.some((c) => c.mode === mode)));
}
