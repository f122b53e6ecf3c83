import cliProgress from "cli-progress";
import { useBackend } from "../../policy/backend.js";
import { loadNetworkPolicy } from "../../policy/policy-file.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { openSandbox } from "../../sandbox/select.js";
import { loadSuite, selectRange } from "../../tasks/load.js";
import type { Task } from "../../tasks/task.js";
import type { UpdateMetric } from "../../training/metrics.js";
import { DEFAULT_REWARD_CONFIG, type RewardConfig } from "../../training/rewards.js";
import { liveExperience, syntheticExperience, type ExperienceSource } from "../../training/session.js";
import { metricsPathOf, parseArmModes, replayLogOfRuns, replaySession, trainingSession, type SessionHooks } from "../../training/train-meta-session.js";
import { KoderzError } from "../errors.js";
import { openEpisodeRunner } from "../orchestrator/episode-runner.js";
import { connectModels } from "../orchestrator/model-backends.js";
import { checkPrerequisites } from "../prerequisites.js";
import { MODES } from "../../policy/actions.js";
import { repositorySuiteTasksOf } from "../orchestrator/repo-suite-session.js";
import { DEFAULT_SETTINGS } from "../orchestrator/pipeline.js";
import { budgetOf, modelChoice, withLlamaThreads } from "./benchmark-run.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { checkWritableFile } from "../output-file.js";
import { etaSeconds, formatEta, plainProgress } from "./progress-line.js";
import type { TrainMetaFlags as Options } from "./train-meta-flags.js";

/** `koderz train-meta` once its flags are checked: open what the environment needs, run the session (training/train-meta-session.ts), print. */
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
  const start = options.policy ? await loadNetworkPolicy(options.policy, { backend: options.backend, purpose: "continuing training (--policy)" }) : undefined;
  if (options.env === "replay") {
    if (start) throw new KoderzError("usage", "--policy is not used with --env replay", "a replay study trains fresh policies per seed and fold; continue a policy on live runs (--env live --policy FILE)");
    log(`tensor backend: ${backend.description}`);
    const tasks = await loadSuite({ suite: "humaneval", dataset: options.dataset, onNotice: log });
    const read = (runs: string[]) => replayLogOfRuns(runs, { db: options.db, tasks, armModes: parseArmModes(options.armMode), repositoryTasksOf: repositorySuiteTasksOf }, log);
    if (!options.runs?.length) throw new KoderzError("usage", "--env replay needs --runs: the stored runs to learn from", "list runs with `koderz results list`, then pass --runs ID1,ID2");
    const replayLog = await read(options.runs);
    const evalLog = options.evalRuns?.length ? await read(options.evalRuns) : undefined;
    // Each seed says when its selection is done (several fold trainings each): no bar.
    const report = await replaySession(options, replayLog, evalLog, tokenRewards, backend.description, { log });
    process.stdout.write((options.json ? JSON.stringify(report.json, null, 2) : report.text) + "\n");
    return;
  }
  const live = options.env === "live" ? await openLive(options, rewards, log) : undefined;
  try {
    const experience = live?.experience ?? syntheticExperience(options.seed, rewards, options.evalEpisodes);
    log(`tensor backend: ${backend.description}`);
    log(`episodes from: ${experience.description}`);
    if (start) log(`starting from policy ${options.policy} (${start.training.episodes} episodes of ${start.training.env} training)`);
    const saved = sayWhatIsSavedOnCtrlC(metricsPathOf(options), log);
    const hooks: SessionHooks = { log, progress: progressDisplay(options.episodes, experience.source, log), onCheckpoint: saved.checkpoint };
    const report = await trainingSession(options, experience, backend.description, start, hooks).finally(saved.dispose);
    process.stdout.write((options.json ? JSON.stringify(report.json, null, 2) : report.text) + "\n");
  } finally {
    await live?.close();
  }
}

/**
 * Tasks, models and sandbox for --env live, checked together so one error lists every missing
 * one (src/prerequisites.ts); close() shuts the sandbox.
 */
async function openLive(options: Options, rewards: RewardConfig, log: (line: string) => void): Promise<{ experience: ExperienceSource; close(): Promise<void> }> {
  const models = modelChoice(options);
  const modelConfig = withLlamaThreads(loadModelConfigAnnounced(options.config), options);
  // The dataset first (a local file, or one download): a --problems range it does not have is a
  // usage error, said before any model is called; a dataset that is missing joins the list below.
  const loaded = await loadSuite({ suite: "humaneval", dataset: options.dataset, onNotice: log }).then(
    (all) => {
      const [start, end] = options.problems ?? [0, all.length];
      return { tasks: selectRange(all, start, end), start, end };
    },
    (error: unknown) => ({ error }),
  );
  const selected = async (): Promise<{ tasks: Task[]; start: number; end: number }> => {
    if ("error" in loaded) throw loaded.error;
    return loaded;
  };
  const [range, backends, sandbox] = await checkPrerequisites([
    { what: "dataset", check: selected },
    { what: "models", check: () => connectModels(models, { modelConfig, preflightModes: MODES }) },
    { what: "sandbox", check: () => openSandbox(options.sandbox, { onNotice: log }), release: (opened: Sandbox) => opened.close() },
  ] as const);
  const { tasks, start, end } = range;
  const { runner, close } = await openEpisodeRunner({
    tasks,
    models,
    modelConfig,
    backends,
    settings: { ...DEFAULT_SETTINGS, trajectories: options.trajectories, debugRounds: options.debugRounds },
    budget: budgetOf(options),
    openSandbox: () => Promise.resolve(sandbox),
  });
  log(`live: ${options.episodes} episode(s) on real models over problems ${start}:${end}, ${options.concurrency} at a time; every agent step is a real model call`);
  return { experience: liveExperience(tasks, runner, rewards), close };
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
  let stopped = false;
  return {
    update: (m) =>
      bar.update(m.episodes, {
        ret: m.meanReturn.toFixed(3),
        regret: m.cumulativeRegret?.toFixed(1) ?? "-",
        eta: formatEta(etaSeconds(m.episodes, total - m.episodes, (Date.now() - startedAt) / 1000)),
      }),
    stop: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
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
