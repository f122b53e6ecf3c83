import cliProgress from "cli-progress";
import { MODES, type Mode } from "../../policy/actions.js";
import { useBackend } from "../../policy/backend.js";
import { loadPolicy, savePolicy, type LoadedPolicy, type TrainingMetadata } from "../../policy/policy-file.js";
import { openSandbox } from "../../sandbox/select.js";
import { loadSuite, selectRange } from "../../tasks/load.js";
import type { PublicTask } from "../../tasks/task.js";
import { bestFixedMode, formatComparison, type ControllerComparison } from "../../training/compare-controllers.js";
import { MetricsFile, type EpisodeMetric, type UpdateMetric } from "../../training/metrics.js";
import { formatPooledTable } from "../../training/held-out-table.js";
import { replayLogHasPrices } from "../../training/replay-environment.js";
import { checkWritableFile } from "../output-file.js";
import { etaSeconds, formatEta, plainProgress } from "./progress-line.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replayLogFromStore, splitReplayLogByTask, type ReplayLog } from "../../training/replay-log.js";
import { describeThresholdChoices } from "../../training/escalation-threshold.js";
import { describeObservationChoices, qualityCostCurve, runReplayStudy } from "../../training/replay-study.js";
import { DEFAULT_REWARD_CONFIG, regretGrowth, type RewardConfig } from "../../training/rewards.js";
import { compareOnHeldOut, liveExperience, syntheticExperience, trainOnExperience, type ExperienceSource } from "../../training/session.js";
import { KoderzError } from "../errors.js";
import { openEpisodeRunner } from "../orchestrator/episode-runner.js";
import { repositorySuiteTasksOf } from "../orchestrator/repo-suite-session.js";
import { DEFAULT_SETTINGS } from "../orchestrator/pipeline.js";
import { knownFigures, openStore, resolveRun, runTitle, type RunRecord } from "../store/index.js";
import { budgetOf, modelChoice, withLlamaThreads } from "./benchmark-run.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import type { TrainMetaFlags as Options } from "./train-meta-flags.js";

/** `koderz train-meta` once its flags are checked. */
export async function runTrainMeta(options: Options): Promise<void> {
  const log = (line: string): void => void process.stderr.write(line + "\n");
  const tokenRewards: RewardConfig = { ...DEFAULT_REWARD_CONFIG, lambdaPer1000Tokens: options.lambda };
  // The simulator prices tokens at one fixed rate, so tokens and dollars rank plans alike; live runs pay dollars.
  const rewards: RewardConfig = options.env === "live" ? { ...tokenRewards, costPerUsd: options.costWeight } : tokenRewards;
  // Where the policy and its metrics go is checked before any training: an hour of training must have somewhere to land.
  checkWritableFile(options.out, "--out");
  checkWritableFile(metricsPathOf(options), "--metrics");
  const backend = await useBackend(options.backend);
  // A policy to continue from is checked before any model or sandbox is touched.
  const start = options.policy ? await loadPolicy(options.policy, { backend: options.backend }) : undefined;
  if (options.env === "replay") {
    if (start) throw new KoderzError("usage", "--policy is not used with --env replay", "a replay study trains one fresh policy per seed; continue a policy on live runs (--env live --policy FILE)");
    log(`tensor backend: ${backend.description}`);
    await replayStudyAndReport(options, await replayLogOfRuns(options, log), tokenRewards, backend.description, log);
    return;
  }
  const live = options.env === "live" ? await openLive(options, rewards, log) : undefined;
  try {
    const experience = live?.experience ?? syntheticExperience(options.seed, rewards, options.evalEpisodes);
    log(`tensor backend: ${backend.description}`);
    log(`episodes from: ${experience.description}`);
    if (start) log(`starting from policy ${options.policy} (${start.training.episodes} episodes of ${start.training.env} training)`);
    await trainAndReport(options, experience, backend.description, start, log);
  } finally {
    await live?.close();
  }
}

async function trainAndReport(options: Options, experience: ExperienceSource, backend: string, start: LoadedPolicy | undefined, log: (line: string) => void): Promise<void> {
  const metricsPath = metricsPathOf(options);
  const metrics = new MetricsFile(metricsPath);
  const progress = progressDisplay(options.episodes, experience.source, log);
  const saved = sayWhatIsSavedOnCtrlC(metricsPath, log);
  const episodes: EpisodeMetric[] = [];
  let result;
  try {
    result = await trainOnExperience({
      experience,
      episodes: options.episodes,
      seed: options.seed,
      policy: start?.policy,
      // Live episodes are expensive: a few at once, one update per batch.
      settings: experience.source === "live" ? { batchEpisodes: options.concurrency } : undefined,
      onEpisode: (line) => {
        metrics.write(line);
        episodes.push(line);
      },
      onUpdate: (line) => {
        metrics.write(line);
        progress.update(line);
      },
      checkpointEvery: options.checkpointEvery,
      onCheckpoint: async (policy, done) => {
        await savePolicy(checkpointPath(options.out, done), policy, metadata(options, experience, backend, done, start?.training));
        saved.checkpoint(checkpointPath(options.out, done));
      },
    });
  } finally {
    progress.stop();
    saved.dispose();
  }
  const comparison = experience.heldOut ? await compareOnHeldOut(result.policy, experience, options.seed) : null;
  if (comparison) metrics.write({ type: "comparison", env: comparison.source, episodes: comparison.episodes, rows: comparison.rows });
  await metrics.close();

  const outcome = comparison ? comparisonOutcome(comparison, result.regret?.series ?? []) : liveOutcome(episodes);
  // JSON has no NaN: figures an environment cannot give (no oracle) are left out of the file.
  const finite = Object.fromEntries(Object.entries(outcome.summary).filter(([, value]) => Number.isFinite(value)));
  const policyPath = await savePolicyOrFallback(options.out, (file) => savePolicy(file, result.policy, { ...metadata(options, experience, backend, result.episodes, start?.training), summary: finite }), log);
  log(`trained ${result.episodes} episodes in ${result.seconds.toFixed(1)} s (${result.updates} updates)`);
  log(`policy: ${policyPath}   metrics: ${metricsPath}`);
  result.policy.dispose();
  process.stdout.write((options.json ? JSON.stringify(outcome.json, null, 2) : outcome.text) + "\n");
}

/** What a training session ends with: headline figures for the policy file, and what to print. */
interface TrainingOutcome {
  summary: Record<string, number>;
  text: string;
  json: unknown;
}

function comparisonOutcome(comparison: ControllerComparison, regretSeries: readonly number[]): TrainingOutcome {
  const summary = comparisonSummary(comparison, regretSeries);
  return { summary, text: formatComparison(comparison) + "\n" + formatSummary(summary), json: { ...comparison, summary } };
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
    json: { source: "live", ...figures, cumulativeRegret: null, regret: "unavailable: no oracle in a live environment" },
  };
}

/** Tasks, models and sandbox for --env live; close() shuts the sandbox. */
async function openLive(options: Options, rewards: RewardConfig, log: (line: string) => void): Promise<{ experience: ExperienceSource; close(): Promise<void> }> {
  const all = await loadSuite({ suite: "humaneval", dataset: options.dataset, onNotice: log });
  const [start, end] = options.problems ?? [0, all.length];
  const tasks = selectRange(all, start, end);
  const { runner, close } = await openEpisodeRunner({
    tasks,
    models: modelChoice(options),
    modelConfig: withLlamaThreads(loadModelConfigAnnounced(options.config), options),
    settings: { ...DEFAULT_SETTINGS, trajectories: options.trajectories, debugRounds: options.debugRounds },
    budget: budgetOf(options),
    openSandbox: () => openSandbox(options.sandbox, { onNotice: log }),
  });
  log(`live: ${options.episodes} episode(s) on real models over problems ${start}:${end}, ${options.concurrency} at a time; every agent step is a real model call`);
  return { experience: liveExperience(tasks, runner, rewards), close };
}

async function replayLogOfRuns(options: Options, log: (line: string) => void): Promise<ReplayLog> {
  if (!options.runs?.length) {
    throw new KoderzError("usage", "--env replay needs --runs: the stored runs to learn from", "list runs with `koderz results list`, then pass --runs ID1,ID2");
  }
  const armModes = parseArmModes(options.armMode);
  const tasks = await loadSuite({ suite: "humaneval", dataset: options.dataset, onNotice: log });
  const byId = new Map<string, PublicTask>(tasks.map((task) => [task.id, task]));
  const store = openStore({ path: options.db, mustExist: true });
  let replay: { log: ReplayLog; skipped: { reason: string }[] };
  try {
    // Runs are named by id or label; a clear not_found for a wrong one.
    const runs = options.runs.map((reference) => resolveRun(store, reference));
    refuseRunsWithoutCosts(runs, log);
    for (const run of runs) {
      // A repository suite's run brings its own instances.
      for (const task of await repositorySuiteTasksOf(run.config)) byId.set(task.id, task);
    }
    replay = replayLogFromStore(store, runs.map((run) => run.runId), (id) => byId.get(id), armModes);
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
      `runs ${options.runs.join(", ")} give ${replay.log.length} replayable task(s); training and a held-out comparison need at least 2`,
      "replay runs whose arms are fast, standard, deep or zero-shot (or map others with --arm-mode ARM=MODE), on tasks of --dataset",
    );
  }
  return replay.log;
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
 * --env replay: the logged arms as an escalation ladder; one training run per seed, each on
 * its own split by task, and the held-out table pooled over the seeds (training/replay-study.ts).
 * The policy file is the first seed's policy. Rewards count dollars when the runs logged any.
 */
async function replayStudyAndReport(options: Options, replayLog: ReplayLog, tokenRewards: RewardConfig, backend: string, log: (line: string) => void): Promise<void> {
  const priced = replayLogHasPrices(replayLog);
  const rewards: RewardConfig = priced ? { ...tokenRewards, costPerUsd: options.costWeight } : tokenRewards;
  if (!priced) log("replay: the runs logged no dollar costs, so rewards and the table count tokens (--lambda per 1000 tokens)");
  const seeds = Array.from({ length: options.seeds }, (_, i) => options.seed + i);
  const split = splitReplayLogByTask(replayLog, options.heldOut, options.seed);
  const description = `replay of logged runs: ${split.training.length} training tasks, ${split.heldOut.length} held-out tasks per seed, ${seeds.length} seed(s)`;
  log(`episodes from: ${description}`);
  const experience = { source: "replay" as const, description };
  const metricsPath = metricsPathOf(options);
  const metrics = new MetricsFile(metricsPath);
  const progress = progressDisplay(options.episodes, "replay", log);
  let study;
  let curve;
  try {
    study = await runReplayStudy({
      log: replayLog,
      seeds,
      episodes: options.episodes,
      rewards,
      heldOutFraction: options.heldOut,
      ...(options.successFloor !== undefined ? { successFloor: options.successFloor } : {}),
      onEpisode: (line) => metrics.write(line),
      onUpdate: (line) => {
        metrics.write(line);
        progress.update(line);
      },
      onSeed: (seed, result) => {
        if (seed === seeds[0]) progress.stop();
        log(`seed ${seed}: trained ${result.episodes} episodes in ${result.seconds.toFixed(1)} s`);
      },
    });
    if (options.curve) {
      log(`quality-cost curve: one training per cost weight (${options.curve.join(", ")}) and seed`);
      curve = await qualityCostCurve({ log: replayLog, seeds, episodes: options.episodes, rewards, heldOutFraction: options.heldOut, weights: options.curve });
    }
  } finally {
    progress.stop();
  }
  metrics.write({ type: "held-out-table", env: "replay", ...study.table, ...(curve ? { curve } : {}) });
  await metrics.close();
  const learned = study.table.rows.find((row) => row.name === "learned")!;
  const summary: Record<string, number> = { learnedSuccess: learned.success.mean, learnedCostPerTask: learned.costPerTask.mean };
  if (learned.successOfDearest !== null) summary.successOfDearest = learned.successOfDearest;
  if (learned.costOfDearest !== null) summary.costOfDearest = learned.costOfDearest;
  const calibrated = study.policy.escalationThreshold !== undefined ? { escalationThreshold: study.policy.escalationThreshold, successFloor: options.successFloor } : {};
  const training = { ...metadata(options, experience, backend, study.firstResult.episodes), ...(priced ? { costPerUsd: options.costWeight } : {}), ...calibrated, summary };
  const policyPath = await savePolicyOrFallback(options.out, (file) => savePolicy(file, study.policy, training), log);
  study.policy.dispose();
  log(`ladder, cheapest first by logged cost: ${study.ladder.join(" -> ")}`);
  log(`policy (seed ${seeds[0]}): ${policyPath}   metrics: ${metricsPath}`);
  const costLine = priced ? `cost weight: ${options.costWeight} reward per US dollar` : `cost weight: ${options.lambda} per 1000 tokens (no prices logged)`;
  const curveLines = curve ? ["quality-cost curve of the learned policy (held-out, pooled): cost weight, success, cost per task", ...curve.map((p) => `  ${String(p.costWeight).padStart(6)}  ${(100 * p.success).toFixed(1).padStart(5)}%  ${p.costPerTask.toFixed(5)}`)] : [];
  const observationLine = describeObservationChoices(study.observationChoices);
  const thresholdLine = options.successFloor !== undefined ? describeThresholdChoices(study.thresholdChoices, options.successFloor, study.dearest!) : null;
  const text = [formatPooledTable(study.table, "replay environment"), costLine, ...[observationLine, thresholdLine].filter((line) => line !== null), ...curveLines].join("\n");
  process.stdout.write((options.json ? JSON.stringify({ ...study.table, ladder: study.ladder, curve: curve ?? null, escalationThresholds: study.thresholdChoices }, null, 2) : text) + "\n");
}

function parseArmModes(values: readonly string[]): Record<string, Mode> {
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

/** `before`: how the --policy this session started from was trained, so the file keeps its history. */
function metadata(options: Options, experience: Pick<ExperienceSource, "source" | "description">, backend: string, episodes: number, before?: TrainingMetadata): TrainingMetadata {
  const history = before ? `continued from ${options.policy} (${before.episodes} ${before.env} episodes${before.note ? `: ${before.note}` : ""}); then ` : "";
  return {
    env: experience.source,
    // Synthetic only if every episode was: a policy fine-tuned on real runs is not a simulator's.
    synthetic: experience.source === "synthetic" && (before?.synthetic ?? true),
    episodes: (before?.episodes ?? 0) + episodes,
    seed: options.seed,
    lambdaPer1000Tokens: options.lambda,
    ...(options.env === "live" ? { costPerUsd: options.costWeight } : {}),
    backend,
    trainedAt: new Date().toISOString(),
    ...(options.runs ? { runs: options.runs } : {}),
    note: history + experience.description,
  };
}

interface Summary extends Record<string, number> {
  learnedReturn: number;
  bestFixedReturn: number;
  fractionOfOracle: number;
  regretGrowthRatio: number;
}

function comparisonSummary(comparison: ControllerComparison, regretSeries: readonly number[]): Summary {
  const learned = comparison.rows.find((row) => row.name === "learned")!;
  const growth = regretGrowth(regretSeries);
  return {
    learnedReturn: learned.meanReturn,
    bestFixedReturn: bestFixedMode(comparison).meanReturn,
    fractionOfOracle: learned.fractionOfOracle ?? NaN,
    regretGrowthRatio: growth.ratio,
  };
}

function formatSummary(summary: Summary): string {
  return [
    `learned vs best fixed mode: ${summary.learnedReturn.toFixed(3)} vs ${summary.bestFixedReturn.toFixed(3)} mean return`,
    `learned return / oracle return: ${(100 * summary.fractionOfOracle).toFixed(1)}%`,
    `training regret per episode, last tenth / first tenth: ${summary.regretGrowthRatio.toFixed(3)}`,
  ].join("\n");
}

function checkpointPath(out: string, episodes: number): string {
  return out.replace(/(\.json)?$/i, `.ep${episodes}.json`);
}

/** A bar with ETA on a terminal; otherwise a line every tenth of the run or every 10 s, so logs show progress too. */
function progressDisplay(total: number, source: string, log: (line: string) => void): { update: (m: UpdateMetric) => void; stop: () => void } {
  const label = source === "synthetic" ? "training (SYNTHETIC)" : `training (${source})`;
  if (!process.stderr.isTTY) {
    const lines = plainProgress(`${label}:`, { every: Math.max(1, Math.ceil(total / 10)), write: (line) => log(line.trimEnd()) });
    return {
      update: (m) => lines.update(m.episodes, total, `return ${m.meanReturn.toFixed(3)}, cumulative regret ${m.cumulativeRegret?.toFixed(1) ?? "-"}`),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} episodes | return {ret} | regret {regret} | eta {eta}`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const startedAt = Date.now();
  bar.start(total, 0, { ret: "-", regret: "-", eta: "-" });
  return {
    update: (m) =>
      bar.update(m.episodes, {
        ret: m.meanReturn.toFixed(3),
        regret: m.cumulativeRegret?.toFixed(1) ?? "-",
        eta: formatEta(etaSeconds(m.episodes, total - m.episodes, (Date.now() - startedAt) / 1000)),
      }),
    stop: () => bar.stop(),
  };
}

function metricsPathOf(options: Options): string {
  return options.metrics ?? options.out.replace(/\.json$/i, "") + ".metrics.jsonl";
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

/**
 * Ctrl-C during training: say what is on disk (the metrics so far, the last checkpoint) before
 * quitting with 130, since the policy itself is written only when training ends.
 */
function sayWhatIsSavedOnCtrlC(metricsPath: string, log: (line: string) => void): { checkpoint(file: string): void; dispose(): void } {
  let last: string | undefined;
  const onSigint = () => {
    log(`\ninterrupted: the policy is written only at the end, so none was saved; on disk: the metrics so far (${metricsPath})` + (last ? ` and the last checkpoint, ${last} (continue with --policy ${last})` : "; no checkpoint yet (--checkpoint-every N writes some)"));
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  return { checkpoint: (file) => (last = file), dispose: () => process.off("SIGINT", onSigint) };
}
