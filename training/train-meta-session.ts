import { MODES, type Mode } from "../policy/actions.js";
import type { MetaPolicy } from "../policy/meta-policy.js";
import { savePolicy, type TrainingMetadata } from "../policy/policy-file.js";
import { ruleName } from "../policy/rule-policy.js";
import type { PublicTask } from "../tasks/task.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { knownFigures, openStore, resolveRun, runTitle, type RunRecord } from "../src/store/index.js";
import { KoderzError } from "../src/errors.js";
import { bestFixedMode, formatComparison, type ControllerComparison } from "./compare-controllers.js";
import { formatPooledTable } from "./held-out-table.js";
import { MetricsFile, type EpisodeMetric, type UpdateMetric } from "./metrics.js";
import { replayLogHasPrices } from "./replay-environment.js";
import { replayLogFromStore, splitReplayLogByTask, type ReplayLog } from "./replay-log.js";
import { qualityCostCurve, runReplayStudy, type CurvePoint } from "./replay-study.js";
import { describeSelection, FOLDS } from "./router-selection.js";
import { regretGrowth, type RewardConfig } from "./rewards.js";
import { compareOnHeldOut, trainOnExperience, type ExperienceSource } from "./session.js";

/**
 * A `koderz train-meta` session, whatever the environment: train, compare, write the policy
 * file, the checkpoints and the metrics, and compose what to print. The CLI reads the flags,
 * opens what needs opening (live models and sandbox), shows progress and prints; the session
 * logic is here, where it can be tested and reused without a command line.
 */
export interface TrainMetaSettings {
  env: "synthetic" | "replay" | "live";
  episodes: number;
  seed: number;
  out: string;
  /** Default: next to `out`, <name>.metrics.jsonl. */
  metrics?: string;
  lambda: number;
  costWeight: number;
  checkpointEvery: number;
  /** Live: episodes per policy update. */
  concurrency: number;
  /** The policy file training continued from, for the history in the new file. */
  policy?: string;
  runs?: string[];
  /** Replay: evaluated on these runs' ladder instead of the held-out tasks of `runs`. */
  evalRuns?: string[];
  seeds: number;
  heldOut: number;
  successFloor?: number;
  curve?: number[];
}

export interface SessionHooks {
  log(line: string): void;
  /** Progress of the training run (the first fold of the first seed, in a replay). */
  progress?: { update(metric: UpdateMetric): void; stop(): void };
  /** A checkpoint was written to `file` (so an interrupted run can say where). */
  onCheckpoint?(file: string): void;
}

/** What a session ends with: the text table and the JSON document to print (one of them). */
export interface SessionReport {
  text: string;
  json: Record<string, unknown>;
}

export function metricsPathOf(settings: Pick<TrainMetaSettings, "metrics" | "out">): string {
  return settings.metrics ?? settings.out.replace(/\.json$/i, "") + ".metrics.jsonl";
}

/** Synthetic or live: one training run, the held-out comparison when the experience offers one, the policy file. */
export async function trainingSession(
  settings: TrainMetaSettings,
  experience: ExperienceSource,
  backend: string,
  start: { policy: MetaPolicy; training: TrainingMetadata } | undefined,
  hooks: SessionHooks,
): Promise<SessionReport> {
  const metricsPath = metricsPathOf(settings);
  const metrics = new MetricsFile(metricsPath);
  const episodes: EpisodeMetric[] = [];
  let result;
  try {
    result = await trainOnExperience({
      experience,
      episodes: settings.episodes,
      seed: settings.seed,
      policy: start?.policy,
      // Live episodes are expensive: a few at once, one update per batch.
      settings: experience.source === "live" ? { batchEpisodes: settings.concurrency } : undefined,
      onEpisode: (line) => {
        metrics.write(line);
        episodes.push(line);
      },
      onUpdate: (line) => {
        metrics.write(line);
        hooks.progress?.update(line);
      },
      checkpointEvery: settings.checkpointEvery,
      onCheckpoint: async (policy, done) => {
        await savePolicy(checkpointPath(settings.out, done), policy, metadata(settings, experience, backend, done, start?.training));
        hooks.onCheckpoint?.(checkpointPath(settings.out, done));
      },
    });
  } finally {
    hooks.progress?.stop();
  }
  const comparison = experience.heldOut ? await compareOnHeldOut(result.policy, experience, settings.seed) : null;
  if (comparison) metrics.write({ type: "comparison", env: comparison.source, episodes: comparison.episodes, rows: comparison.rows });
  await metrics.close();

  const outcome = comparison ? comparisonOutcome(comparison, result.regret?.series ?? []) : liveOutcome(episodes);
  // JSON has no NaN: figures an environment cannot give (no oracle) are left out of the file.
  const finite = Object.fromEntries(Object.entries(outcome.summary).filter(([, value]) => Number.isFinite(value)));
  const policyPath = await savePolicyOrFallback(settings.out, (file) => savePolicy(file, result.policy, { ...metadata(settings, experience, backend, result.episodes, start?.training), summary: finite }), hooks.log);
  hooks.log(`trained ${result.episodes} episodes in ${result.seconds.toFixed(1)} s (processor ${result.cpuSeconds.toFixed(1)} s; ${result.updates} updates)`);
  hooks.log(`policy: ${policyPath}   metrics: ${metricsPath}`);
  result.policy.dispose();
  return { text: outcome.text, json: outcome.json };
}

/** The stored runs as a replay log, with the tasks they ran on (`tasks`, plus any a repository suite's run brings). */
export async function replayLogOfRuns(
  runs: readonly string[],
  options: { db?: string; tasks: readonly PublicTask[]; armModes: Readonly<Record<string, Mode>>; repositoryTasksOf?: (config: unknown) => Promise<readonly PublicTask[]> },
  log: (line: string) => void,
): Promise<ReplayLog> {
  const byId = new Map<string, PublicTask>(options.tasks.map((task) => [task.id, task]));
  const store = openStore({ path: options.db, mustExist: true });
  let replay: ReturnType<typeof replayLogFromStore>;
  try {
    // Runs are named by id or label; a clear not_found for a wrong one.
    const records = runs.map((reference) => resolveRun(store, reference));
    refuseRunsWithoutCosts(records, log);
    for (const run of records) {
      // A repository suite's run brings its own instances.
      for (const task of (await options.repositoryTasksOf?.(run.config)) ?? []) byId.set(task.id, task);
    }
    replay = replayLogFromStore(store, records.map((run) => run.runId), (id) => byId.get(id), options.armModes);
  } finally {
    store.close();
  }
  if (replay.skipped.length) {
    const reasons = [...new Set(replay.skipped.map((s) => s.reason))].slice(0, 3).join("; ");
    log(`replay: skipped ${replay.skipped.length} experiments (${reasons})`);
  }
  if (replay.log.length < 2) {
    throw new KoderzError(
      "bad_input",
      `runs ${runs.join(", ")} give ${replay.log.length} replayable task(s); training and a held-out comparison need at least 2`,
      "replay runs whose arms are fast, standard, deep or zero-shot (or map others with --arm-mode ARM=MODE), on tasks of --dataset",
    );
  }
  return replay.log;
}

/**
 * --env replay: the logged arms as an escalation ladder; per seed, the controller is chosen out
 * of sample on the training tasks among the learned policy and the rules (router-selection.ts),
 * and the held-out table is pooled over the seeds (replay-study.ts). The policy file is the first
 * seed's chosen controller: the learned ensemble, or the rule when the cross-validation found the
 * rule better. Rewards count dollars when the runs logged any.
 */
export async function replaySession(settings: TrainMetaSettings, replayLog: ReplayLog, evalLog: ReplayLog | undefined, tokenRewards: RewardConfig, backend: string, hooks: SessionHooks): Promise<SessionReport> {
  const priced = replayLogHasPrices(replayLog);
  const rewards: RewardConfig = priced ? { ...tokenRewards, costPerUsd: settings.costWeight } : tokenRewards;
  if (!priced) hooks.log("replay: the runs logged no dollar costs, so rewards and the table count tokens (--lambda per 1000 tokens)");
  const seeds = Array.from({ length: settings.seeds }, (_, i) => settings.seed + i);
  const split = splitReplayLogByTask(replayLog, settings.heldOut, settings.seed);
  const evaluatedOn = evalLog ? `; evaluated on runs ${settings.evalRuns!.join(", ")} (their tasks not trained on)` : "";
  const description = `replay of logged runs: ${split.training.length} training tasks, ${split.heldOut.length} held-out tasks per seed, ${seeds.length} seed(s)${evaluatedOn}`;
  hooks.log(`episodes from: ${description}`);
  const metricsPath = metricsPathOf(settings);
  const metrics = new MetricsFile(metricsPath);
  let study;
  let curve: CurvePoint[] | undefined;
  try {
    const common = { log: replayLog, seeds, episodes: settings.episodes, heldOutFraction: settings.heldOut, ...(evalLog ? { evalLog } : {}), ...(settings.successFloor !== undefined ? { successFloor: settings.successFloor } : {}) };
    study = await runReplayStudy({
      ...common,
      rewards,
      onSeed: (seed, selection) => {
        if (seed === seeds[0]) hooks.progress?.stop();
        hooks.log(`seed ${seed}: ${FOLDS} fold policies of ${settings.episodes} episodes and the rules, chosen in ${selection.seconds.toFixed(1)} s`);
      },
    });
    if (settings.curve) {
      hooks.log(`quality-cost curve: one study per cost weight (${settings.curve.join(", ")})`);
      curve = await qualityCostCurve({ ...common, rewards, weights: settings.curve });
    }
  } finally {
    hooks.progress?.stop();
  }
  metrics.write({ type: "held-out-table", env: "replay", ...study.table, ...(curve ? { curve } : {}) });
  await metrics.close();
  const chosenRow = study.table.rows.find((row) => row.name === "chosen")!;
  const summary: Record<string, number> = { chosenSuccess: chosenRow.success.mean, chosenCostPerTask: chosenRow.costPerTask.mean };
  if (chosenRow.successOfDearest !== null) summary.successOfDearest = chosenRow.successOfDearest;
  if (chosenRow.costOfDearest !== null) summary.costOfDearest = chosenRow.costOfDearest;
  const first = study.selections[0]!;
  const threshold = study.router.kind === "network" && first.threshold !== null ? { escalationThreshold: first.threshold } : {};
  const experience = { source: "replay" as const, description };
  const chosenNote = first.chosen.kind === "rule" ? `; cross-validation chose the rule ${first.chosen.name} over the learned policy, so this file holds the rule` : "";
  const training: TrainingMetadata = {
    ...metadata(settings, experience, backend, settings.episodes),
    ...(priced ? { costPerUsd: settings.costWeight } : {}),
    ...threshold,
    ...(settings.successFloor !== undefined ? { successFloor: settings.successFloor } : {}),
    summary,
  };
  training.note = (training.note ?? "") + chosenNote;
  const policyPath = await savePolicyOrFallback(settings.out, (file) => savePolicy(file, study.router, training), hooks.log);
  const routerName = study.router.kind === "rule" && first.chosen.kind === "rule" ? `the rule ${ruleName(first.chosen.rule)}` : "the learned ensemble";
  study.router.dispose();
  hooks.log(`ladder, cheapest first by logged cost: ${study.ladder.join(" -> ")}${evalLog ? `; evaluated on ${study.evalLadder.join(" -> ")}` : ""}`);
  hooks.log(`policy (seed ${seeds[0]}'s choice, ${routerName}): ${policyPath}   metrics: ${metricsPath}`);
  const costLine = priced ? `cost weight: ${settings.costWeight} reward per US dollar` : `cost weight: ${settings.lambda} per 1000 tokens (no prices logged)`;
  const curveLines = curve ? ["quality-cost curve of the learned policy (held-out, pooled): cost weight, success, cost per task", ...curve.map((p) => `  ${String(p.costWeight).padStart(6)}  ${(100 * p.success).toFixed(1).padStart(5)}%  ${p.costPerTask.toFixed(5)}`)] : [];
  const selectionLines = study.selections.map((s) => describeSelection(s.seed, s, settings.successFloor));
  const text = [formatPooledTable(study.table, evalLog ? "replay environment (another ladder)" : "replay environment"), costLine, ...selectionLines, ...curveLines].join("\n");
  const json = {
    schemaVersion: 1,
    source: "replay",
    ...study.table,
    reach: study.table.reach ?? null,
    ladder: study.ladder,
    evalLadder: study.evalLadder,
    curve: curve ?? null,
    selections: study.selections.map((s) => ({ seed: s.seed, chosen: s.chosen, threshold: s.threshold, candidates: s.candidates })),
  };
  return { text, json };
}

/** How the policy was trained; `before`: how the --policy this session started from was, so the file keeps its history. */
function metadata(settings: TrainMetaSettings, experience: Pick<ExperienceSource, "source" | "description">, backend: string, episodes: number, before?: TrainingMetadata): TrainingMetadata {
  const history = before ? `continued from ${settings.policy} (${before.episodes} ${before.env} episodes${before.note ? `: ${before.note}` : ""}); then ` : "";
  return {
    env: experience.source,
    // Synthetic only if every episode was: a policy fine-tuned on real runs is not a simulator's.
    synthetic: experience.source === "synthetic" && (before?.synthetic ?? true),
    episodes: (before?.episodes ?? 0) + episodes,
    seed: settings.seed,
    lambdaPer1000Tokens: settings.lambda,
    ...(settings.env === "live" ? { costPerUsd: settings.costWeight } : {}),
    backend,
    trainedAt: new Date().toISOString(),
    ...(settings.runs ? { runs: settings.runs } : {}),
    note: history + experience.description,
  };
}

interface TrainingOutcome {
  summary: Record<string, number>;
  text: string;
  json: Record<string, unknown>;
}

interface Summary extends Record<string, number> {
  learnedReturn: number;
  bestFixedReturn: number;
  fractionOfOracle: number;
  regretGrowthRatio: number;
}

function comparisonOutcome(comparison: ControllerComparison, regretSeries: readonly number[]): TrainingOutcome {
  const learned = comparison.rows.find((row) => row.name === "learned")!;
  const growth = regretGrowth(regretSeries);
  const summary: Summary = {
    learnedReturn: learned.meanReturn,
    bestFixedReturn: bestFixedMode(comparison).meanReturn,
    fractionOfOracle: learned.fractionOfOracle ?? NaN,
    regretGrowthRatio: growth.ratio,
  };
  const lines = [
    `learned vs best fixed mode: ${summary.learnedReturn.toFixed(3)} vs ${summary.bestFixedReturn.toFixed(3)} mean return`,
    `learned return / oracle return: ${(100 * summary.fractionOfOracle).toFixed(1)}%`,
    `training regret per episode, last tenth / first tenth: ${summary.regretGrowthRatio.toFixed(3)}`,
  ];
  return { summary, text: formatComparison(comparison) + "\n" + lines.join("\n"), json: { schemaVersion: 1, ...comparison, summary } };
}

/**
 * Live training has no held-out comparison (it would play every baseline on real models) and
 * no oracle, so it reports its own training episodes, and regret as unavailable, not zero.
 */
function liveOutcome(episodes: readonly EpisodeMetric[]): TrainingOutcome {
  const n = Math.max(1, episodes.length);
  const mean = (f: (episode: EpisodeMetric) => number): number => episodes.reduce((sum, episode) => sum + f(episode), 0) / n;
  const figures = {
    episodes: episodes.length,
    successRate: mean((e) => (e.success ? 1 : 0)),
    meanReturn: mean((e) => e.return),
    meanTokens: mean((e) => e.tokens),
    meanCostUsd: mean((e) => e.costUsd),
    modeMix: Object.fromEntries(MODES.map((mode) => [mode, mean((e) => (e.mode === mode ? 1 : 0))])) as Record<Mode, number>,
  };
  const text = [
    `live environment (real models): ${figures.episodes} training episodes, no held-out comparison`,
    `success ${(100 * figures.successRate).toFixed(1)}%, mean return ${figures.meanReturn.toFixed(3)}, mean tokens ${Math.round(figures.meanTokens)}, mean cost $${figures.meanCostUsd.toFixed(4)}`,
    `modes f/s/d: ${MODES.map((mode) => Math.round(100 * figures.modeMix[mode])).join("/")}`,
    "regret: unavailable (no oracle live: nobody knows what the other modes would have done)",
  ].join("\n");
  return {
    summary: { trainingMeanReturn: figures.meanReturn, trainingSuccessRate: figures.successRate },
    text,
    json: { schemaVersion: 1, source: "live", ...figures, cumulativeRegret: null, regret: "unavailable: no oracle in a live environment" },
  };
}

/**
 * A replay weighs what each arm cost. Runs that logged neither dollars nor tokens (imports
 * without those fields, tagged cost:unknown and tokens:unknown) have nothing to weigh: their
 * zeros are unknowns, not free arms, so the study is refused rather than ranked on them. Runs
 * with tokens but no dollars are said plainly: the table then counts tokens.
 */
function refuseRunsWithoutCosts(runs: readonly RunRecord[], log: (line: string) => void): void {
  const blind = runs.filter((run) => !knownFigures(run).cost && !knownFigures(run).tokens);
  if (blind.length) {
    throw new KoderzError(
      "bad_input",
      `run${blind.length === 1 ? "" : "s"} ${blind.map((run) => runTitle(run)).join(", ")} logged neither costs nor tokens, so a replay cannot tell a cheap arm from a dear one`,
      "replay runs koderz ran itself, or import samples with --cost-field or --input-tokens-field/--output-tokens-field",
    );
  }
  const unpriced = runs.filter((run) => !knownFigures(run).cost);
  if (unpriced.length) log(`replay: ${unpriced.map((run) => runTitle(run)).join(", ")} logged no dollar costs (unknown, not $0); their arms are weighed by tokens`);
}

/**
 * The trained policy, where --out says, or (when that fails after the training: a disk filled,
 * a folder made read-only meanwhile) in the temporary folder, said on stderr. Returns the path.
 */
async function savePolicyOrFallback(out: string, save: (file: string) => Promise<unknown>, log: (line: string) => void): Promise<string> {
  try {
    await save(out);
    return out;
  } catch (error) {
    const fallback = path.join(mkdtempSync(path.join(tmpdir(), "koderz-")), path.basename(out));
    await save(fallback);
    log(`warning: could not write the policy to ${out} (${error instanceof Error ? error.message : String(error)}); wrote it to ${fallback} instead`);
    return fallback;
  }
}

function checkpointPath(out: string, episodes: number): string {
  return out.replace(/(\.json)?$/i, `.ep${episodes}.json`);
}

/** --arm-mode ARM=MODE values as a mapping. */
export function parseArmModes(values: readonly string[]): Record<string, Mode> {
  const mapping: Record<string, Mode> = {};
  for (const value of values) {
    const [arm, mode] = value.split("=").map((part) => part.trim());
    if (!arm || !mode || !(MODES as readonly string[]).includes(mode)) {
      throw new KoderzError("usage", `--arm-mode "${value}" is not ARM=MODE`, `MODE is one of ${MODES.join(", ")}, e.g. --arm-mode iterative=standard`);
    }
    mapping[arm] = mode as Mode;
  }
  return mapping;
}
