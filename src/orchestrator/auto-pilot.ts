import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { MODES, type Mode } from "../../policy/actions.js";
import { deriveSeed } from "../../policy/prng.js";
import { DEFAULT_REWARD_CONFIG, type RewardConfig } from "../../training/rewards.js";
import type { TrainingMetadata } from "../../policy/policy-file.js";
import { KoderzError } from "../errors.js";
import type { ExperimentRecord } from "../store/index.js";
import type { AutoPilot } from "./auto-experiment.js";
import { modeFromTags } from "../../policy/chosen-mode-tag.js";
import type { UnlistedConfig } from "./benchmark-config.js";

/**
 * Opens the policy a `--mode auto` run decides with, before the run is written, so a missing
 * or corrupt policy file stops the command with nothing recorded.
 *
 * Which file, and why:
 * - a plain auto run decides greedily with --policy; its SHA-256 is stored with the run, and
 *   --resume or --replay refuse a file that changed since, because its decisions would differ;
 * - a --learn run saves each update to --policy-out, by default the --policy file itself (it
 *   "keeps updating" that policy), and --resume continues from the last saved update. Its
 *   decisions are sampled from a policy that changes as it runs, so it cannot be replayed.
 * tfjs is imported here only, so runs of the other modes never load it.
 */
export interface OpenedAutoPilot {
  pilot: AutoPilot;
  /** SHA-256 of the policy file as loaded. */
  fingerprint: string;
  /** The file the policy was loaded from. */
  loadedFrom: string;
  /** --learn: updates made so far by this process, and where they are saved. */
  learning?: { updates(): number; savePath: string };
  close(): void;
}

export async function openAutoPilot(config: UnlistedConfig, run: { runId: string; kind: "new" | "resume" | "replay" }): Promise<OpenedAutoPilot> {
  if (!config.policyPath) {
    throw new KoderzError("usage", "--mode auto needs a trained policy", "pass --policy FILE (train one with `koderz train-meta --out FILE`), or choose another --mode");
  }
  if (config.learn && run.kind === "replay") {
    throw new KoderzError(
      "usage",
      `run ${config.replayOf} learned online (--learn): its decisions were sampled from a policy that changed as it ran, so they cannot be replayed`,
      "replay auto runs made without --learn, or start a new run with --mode auto --policy FILE",
    );
  }
  const savePath = config.policyOutPath ?? config.policyPath;
  const source = config.learn && run.kind === "resume" && existsSync(savePath) ? savePath : config.policyPath;
  const fingerprint = fileFingerprint(source);
  if (!config.learn && config.policySha256 && fingerprint !== config.policySha256) {
    throw new KoderzError(
      "bad_input",
      `policy file ${source} changed since run ${config.replayOf ?? run.runId} started, so its decisions would not be the run's`,
      "restore the policy file the run used, or start a new run",
    );
  }

  const { loadPolicy, loadNetworkPolicy } = await import("../../policy/policy-file.js");
  if (!config.learn) {
    // A network or a rule (a policy file may hold either) decides as it is.
    const { policy, training } = await loadPolicy(source);
    return { pilot: { policy, rewards: rewardsOf(training) }, fingerprint, loadedFrom: source, close: () => policy.dispose() };
  }
  // Only a network can learn online.
  const { policy, training } = await loadNetworkPolicy(source, { purpose: "--learn" });
  const rewards = rewardsOf(training);
  const { OnlineLearner } = await import("../../training/online-learning.js");
  const seed = deriveSeed(training.seed, run.runId);
  const learner = new OnlineLearner(policy, { savePath, trainedBefore: training, source: `koderz benchmark --learn, run ${run.runId}`, seed });
  return {
    pilot: { policy, rewards, sampleSeed: seed, afterEpisode: (trace) => learner.learn(trace) },
    fingerprint,
    loadedFrom: source,
    learning: { updates: () => learner.updates, savePath },
    close: () => {
      learner.dispose();
      policy.dispose();
    },
  };
}

/** Rewards as the policy was trained with, so --learn keeps optimising the same objective. */
function rewardsOf(training: TrainingMetadata): RewardConfig {
  return { ...DEFAULT_REWARD_CONFIG, lambdaPer1000Tokens: training.lambdaPer1000Tokens, ...(training.costPerUsd === undefined ? {} : { costPerUsd: training.costPerUsd }) };
}

/** How many of a run's auto experiments the policy gave each mode, from their chosen_mode tags. */
export function chosenModeCounts(experiments: readonly ExperimentRecord[]): Record<Mode, number> {
  const counts = Object.fromEntries(MODES.map((mode) => [mode, 0])) as Record<Mode, number>;
  for (const experiment of experiments) {
    const mode = modeFromTags(experiment.tags);
    if (mode) counts[mode] += 1;
  }
  return counts;
}

function fileFingerprint(file: string): string {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new KoderzError(missing ? "not_found" : "policy_file", missing ? `policy file ${file} does not exist` : `cannot read policy file ${file}: ${(error as Error).message}`, "train one with `koderz train-meta --out FILE`, or pass the right --policy");
  }
}
