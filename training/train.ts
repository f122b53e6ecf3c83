import * as tf from "@tensorflow/tfjs";
import { AGENT_CHOICES, MODES } from "../policy/actions.js";
import { MetaPolicy, type Decision } from "../policy/meta-policy.js";
import { createPrng, deriveSeed, type Prng } from "../policy/prng.js";
import type { Environment } from "./environment.js";
import type { EpisodeMetric, UpdateMetric } from "./metrics.js";
import { RegretTracker } from "./rewards.js";
import { playEpisodes, type EpisodeTrace } from "./rollout.js";

/**
 * Training: PPO-clip (actor-critic with a learned value baseline).
 *
 * Each update plays a batch of episodes with the current policy (sampling, seeded), scores
 * every decision with generalised advantage estimation against the value head, and takes a
 * few epochs of minibatch steps on the clipped surrogate + value loss − entropy bonus.
 * Both heads learn from the same episodes: a mode decision's advantage is the return of
 * the whole episode it set up, an agent decision's is the return from that step on.
 * Batching is what makes 10 000 episodes cheap: one forward pass per decision round of
 * the whole batch, and a few hundred gradient steps in all.
 *
 * The entropy coefficient decays linearly from entropyStart to entropyEnd: explore early,
 * commit late, which is what makes cumulative regret flatten.
 */
export interface PpoSettings {
  /** Episodes played per update (also the number of environments stepped in lockstep). */
  batchEpisodes: number;
  epochs: number;
  minibatchSize: number;
  learningRate: number;
  clipRatio: number;
  gamma: number;
  gaeLambda: number;
  valueCoefficient: number;
  entropyStart: number;
  entropyEnd: number;
  maxGradientNorm: number;
  hiddenSizes: number[];
  /**
   * Scale advantages to mean 0, deviation 1 over each batch. Right for batches of many
   * episodes; wrong for one episode (online learning), where it would turn a uniformly good
   * episode into half "worse than expected" decisions.
   */
  normaliseAdvantages: boolean;
  /**
   * Whether the network sees the task text's features (policy/features.ts) besides the
   * episode's evidence. A replay study chooses this on its training split (replay-study.ts).
   */
  taskText: boolean;
  /** Whether the network reads the ladder features (policy/features.ts LADDER_STATE_FEATURES: the same on any ladder) instead of the episode's. */
  ladderFeatures: boolean;
}

export const DEFAULT_PPO_SETTINGS: Readonly<PpoSettings> = {
  batchEpisodes: 200,
  epochs: 6,
  minibatchSize: 256,
  learningRate: 2e-3,
  clipRatio: 0.2,
  gamma: 1,
  gaeLambda: 0.95,
  valueCoefficient: 0.5,
  entropyStart: 0.05,
  entropyEnd: 0.001,
  maxGradientNorm: 0.5,
  hiddenSizes: [64, 64],
  normaliseAdvantages: true,
  taskText: true,
  ladderFeatures: false,
};

export interface TrainOptions {
  episodes: number;
  seed: number;
  /** A batch of environments continuing one stream of episodes; called once with the batch size. */
  makeEnvironments: (count: number) => Environment[];
  settings?: Partial<PpoSettings>;
  /** Continue training this policy instead of a fresh one. */
  policy?: MetaPolicy;
  onEpisode?: (metric: EpisodeMetric) => void;
  onUpdate?: (metric: UpdateMetric) => void;
  /** Calls onCheckpoint each time this many more episodes are done (0: never). */
  checkpointEvery?: number;
  onCheckpoint?: (policy: MetaPolicy, episodes: number) => Promise<void> | void;
}

export interface TrainResult {
  policy: MetaPolicy;
  episodes: number;
  updates: number;
  /** Per-episode and cumulative regret; null when the environment has no oracle. */
  regret: RegretTracker | null;
  seconds: number;
  /** Processor time this process spent (user + system): on a shared machine, wall time also counts the others' load. */
  cpuSeconds: number;
}

type Trace = EpisodeTrace<Decision>;

export async function trainMetaPolicy(options: TrainOptions): Promise<TrainResult> {
  const settings: PpoSettings = { ...DEFAULT_PPO_SETTINGS, ...options.settings };
  const policy = options.policy ?? MetaPolicy.initialise(deriveSeed(options.seed, "network"), { hiddenSizes: settings.hiddenSizes, taskText: settings.taskText, ladder: settings.ladderFeatures });
  const optimizer = tf.train.adam(settings.learningRate);
  const samplingRng = createPrng(deriveSeed(options.seed, "sampling"));
  const shuffleRng = createPrng(deriveSeed(options.seed, "minibatches"));
  const environments = options.makeEnvironments(settings.batchEpisodes);
  const regret = new RegretTracker();
  let hasOracle = true;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();

  let done = 0;
  let update = 0;
  try {
    while (done < options.episodes) {
      const batch = environments.slice(0, Math.min(environments.length, options.episodes - done));
      const traces = await playEpisodes(batch, (observations) => policy.decide(observations, { rng: samplingRng }));
      const source = batch[0]!.source;

      for (const trace of traces) {
        const outcome = trace.outcome;
        const oracleReturn = outcome.oracle?.return ?? null;
        hasOracle &&= oracleReturn !== null;
        const cumulative = oracleReturn === null ? null : regret.record(oracleReturn, outcome.return);
        options.onEpisode?.({
          type: "episode",
          env: source,
          episode: done,
          taskId: outcome.taskId,
          mode: outcome.mode,
          agents: outcome.agents,
          return: outcome.return,
          success: outcome.success,
          tokens: outcome.tokens,
          costUsd: outcome.costUsd,
          oracleReturn,
          regret: oracleReturn === null ? null : oracleReturn - outcome.return,
          cumulativeRegret: cumulative,
        });
        done++;
      }

      const progress = done / options.episodes;
      const entropyCoefficient = settings.entropyStart + (settings.entropyEnd - settings.entropyStart) * progress;
      const loss = ppoUpdate(policy, optimizer, traces, settings, entropyCoefficient, shuffleRng);
      update++;

      options.onUpdate?.({
        type: "update",
        env: source,
        update,
        episodes: done,
        ...batchSummary(traces),
        cumulativeRegret: hasOracle ? regret.cumulative : null,
        loss,
        entropy: meanEntropy(traces),
        entropyCoefficient,
        seconds: (performance.now() - started) / 1000,
      });

      const every = options.checkpointEvery ?? 0;
      if (every > 0 && Math.floor(done / every) > Math.floor((done - traces.length) / every)) {
        await options.onCheckpoint?.(policy, done);
      }
    }
  } finally {
    optimizer.dispose();
  }
  const cpu = process.cpuUsage(cpuStarted);
  return {
    policy,
    episodes: done,
    updates: update,
    regret: hasOracle ? regret : null,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

/**
 * One PPO update on a batch of episodes (any number, one included); returns the mean
 * minibatch loss. Online learning (training/online-learning.ts) calls it per episode.
 */
export function ppoUpdate(
  policy: MetaPolicy,
  optimizer: tf.Optimizer,
  traces: readonly Trace[],
  settings: PpoSettings,
  entropyCoefficient: number,
  rng: Prng,
): number {
  const batch = buildBatch(traces, settings, policy.network.architecture.inputSize);
  const n = batch.size;
  const variables = policy.network.trainableVariables;
  // The losses stay on the backend until the update is over: one read instead of one per step.
  const losses: tf.Scalar[] = [];
  try {
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      const order = shuffled(n, rng);
      for (let start = 0; start < n; start += settings.minibatchSize) {
        const rows = order.subarray(start, Math.min(n, start + settings.minibatchSize));
        const loss = tf.tidy((): tf.Scalar => {
          const minibatch = minibatchTensors(batch, rows);
          const { value, grads } = tf.variableGrads(() => ppoLoss(policy, minibatch, settings, entropyCoefficient), variables);
          optimizer.applyGradients(clipByGlobalNorm(grads, settings.maxGradientNorm));
          return value;
        });
        losses.push(loss);
      }
    }
    if (losses.length === 0) return 0;
    const mean = tf.tidy(() => tf.mean(tf.stack(losses)));
    const value = mean.dataSync()[0] ?? 0;
    mean.dispose();
    return value;
  } finally {
    tf.dispose(losses);
  }
}

/**
 * A minibatch's rows copied out of the batch in JavaScript, then handed to the backend: nine
 * small copies instead of nine gather operations on the backend per gradient step (each
 * backend operation has a fixed cost that dwarfs a copy of a few hundred rows).
 */
function minibatchTensors(batch: Batch, rows: Int32Array): MinibatchTensors {
  const m = rows.length;
  const pick = (source: Float32Array, width: number): Float32Array => {
    const out = new Float32Array(m * width);
    // Element by element: a subarray per row would allocate a view for every row and field.
    for (let k = 0; k < m; k++) {
      const from = rows[k]! * width;
      for (let j = 0; j < width; j++) out[k * width + j] = source[from + j]!;
    }
    return out;
  };
  return {
    inputs: tf.tensor2d(pick(batch.inputs, batch.inputSize), [m, batch.inputSize]),
    isMode: tf.tensor1d(pick(batch.isMode, 1)),
    modeMask: tf.tensor2d(pick(batch.modeMask, MODES.length), [m, MODES.length]),
    agentMask: tf.tensor2d(pick(batch.agentMask, AGENT_CHOICES.length), [m, AGENT_CHOICES.length]),
    modeChosen: tf.tensor2d(pick(batch.modeChosen, MODES.length), [m, MODES.length]),
    agentChosen: tf.tensor2d(pick(batch.agentChosen, AGENT_CHOICES.length), [m, AGENT_CHOICES.length]),
    oldLogProbability: tf.tensor1d(pick(batch.oldLogProbability, 1)),
    advantages: tf.tensor1d(pick(batch.advantages, 1)),
    returns: tf.tensor1d(pick(batch.returns, 1)),
  };
}

interface MinibatchTensors {
  inputs: tf.Tensor2D;
  isMode: tf.Tensor1D;
  /** 0 where allowed, a large negative number where not: added to the logits. */
  modeMask: tf.Tensor2D;
  agentMask: tf.Tensor2D;
  /** One-hot of the action taken, all zeros in the head that did not decide. */
  modeChosen: tf.Tensor2D;
  agentChosen: tf.Tensor2D;
  oldLogProbability: tf.Tensor1D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
}

/** Clipped surrogate + value loss − entropy bonus, with each row scored by the head that decided it. */
function ppoLoss(policy: MetaPolicy, b: MinibatchTensors, settings: PpoSettings, entropyCoefficient: number): tf.Scalar {
  const out = policy.network.forward(b.inputs);
  const modeLog = tf.logSoftmax(tf.add(out.modeLogits, b.modeMask));
  const agentLog = tf.logSoftmax(tf.add(out.agentLogits, b.agentMask));
  const logProbability = tf.add(tf.sum(tf.mul(modeLog, b.modeChosen), 1), tf.sum(tf.mul(agentLog, b.agentChosen), 1));
  const ratio = tf.exp(tf.sub(logProbability, b.oldLogProbability));
  const clipped = tf.clipByValue(ratio, 1 - settings.clipRatio, 1 + settings.clipRatio);
  const policyLoss = tf.neg(tf.mean(tf.minimum(tf.mul(ratio, b.advantages), tf.mul(clipped, b.advantages))));
  const entropyOf = (log: tf.Tensor): tf.Tensor => tf.neg(tf.sum(tf.mul(tf.exp(log), log), 1));
  const entropy = tf.mean(tf.add(tf.mul(b.isMode, entropyOf(modeLog)), tf.mul(tf.sub(1, b.isMode), entropyOf(agentLog))));
  const valueLoss = tf.mean(tf.square(tf.sub(b.returns, out.values)));
  return tf.sub(tf.add(policyLoss, tf.mul(settings.valueCoefficient, valueLoss)), tf.mul(entropyCoefficient, entropy)) as tf.Scalar;
}

/**
 * Scales all gradients down together when their joint norm exceeds maxNorm: one unlucky batch
 * cannot throw the policy far. Computed on the backend (scale = min(1, maxNorm / norm)), so a
 * step never waits for a read back to JavaScript.
 */
function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
  const scale = tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12)));
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
}

/** Large enough to zero a masked action's probability, small enough that 0 × it stays 0 (−Infinity would give NaN). */
const MASKED = -1e9;

interface Batch {
  size: number;
  inputSize: number;
  inputs: Float32Array;
  isMode: Float32Array;
  modeMask: Float32Array;
  agentMask: Float32Array;
  modeChosen: Float32Array;
  agentChosen: Float32Array;
  oldLogProbability: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

/** Flattens episodes into decision rows with GAE advantages (normalised over the batch) and returns-to-go. */
function buildBatch(traces: readonly Trace[], settings: PpoSettings, inputSize: number): Batch {
  const size = traces.reduce((n, trace) => n + trace.steps.length, 0);
  const modeWidth = MODES.length;
  const agentWidth = AGENT_CHOICES.length;
  const batch: Batch = {
    size,
    inputSize,
    inputs: new Float32Array(size * inputSize),
    isMode: new Float32Array(size),
    modeMask: new Float32Array(size * modeWidth),
    agentMask: new Float32Array(size * agentWidth),
    modeChosen: new Float32Array(size * modeWidth),
    agentChosen: new Float32Array(size * agentWidth),
    oldLogProbability: new Float32Array(size),
    advantages: new Float32Array(size),
    returns: new Float32Array(size),
  };
  let row = 0;
  for (const trace of traces) {
    const steps = trace.steps;
    const advantages = new Float64Array(steps.length);
    let next = 0; // GAE accumulator; the value after the last step is 0 (episode over)
    for (let t = steps.length - 1; t >= 0; t--) {
      const nextValue = t + 1 < steps.length ? steps[t + 1]!.choice.value : 0;
      const delta = steps[t]!.reward + settings.gamma * nextValue - steps[t]!.choice.value;
      next = delta + settings.gamma * settings.gaeLambda * next;
      advantages[t] = next;
    }
    steps.forEach((step, t) => {
      const decision = step.choice;
      const r = row + t;
      batch.inputs.set(decision.features, r * inputSize);
      const isMode = decision.head === "mode";
      batch.isMode[r] = isMode ? 1 : 0;
      const width = isMode ? modeWidth : agentWidth;
      const mask = isMode ? batch.modeMask : batch.agentMask;
      const chosen = isMode ? batch.modeChosen : batch.agentChosen;
      for (let i = 0; i < width; i++) mask[r * width + i] = decision.mask[i] ? 0 : MASKED;
      chosen[r * width + decision.actionIndex] = 1;
      batch.oldLogProbability[r] = decision.logProbability;
      batch.advantages[r] = advantages[t]!;
      batch.returns[r] = advantages[t]! + decision.value;
    });
    row += steps.length;
  }
  if (settings.normaliseAdvantages) normaliseInPlace(batch.advantages);
  return batch;
}

function batchSummary(traces: readonly Trace[]): Pick<UpdateMetric, "meanReturn" | "successRate" | "meanCostUsd" | "meanTokens" | "modeMix"> {
  const n = Math.max(1, traces.length);
  const mean = (f: (trace: Trace) => number): number => traces.reduce((sum, trace) => sum + f(trace), 0) / n;
  return {
    meanReturn: mean((t) => t.outcome.return),
    successRate: mean((t) => (t.outcome.success ? 1 : 0)),
    meanCostUsd: mean((t) => t.outcome.costUsd),
    meanTokens: mean((t) => t.outcome.tokens),
    modeMix: {
      fast: mean((t) => (t.outcome.mode === "fast" ? 1 : 0)),
      standard: mean((t) => (t.outcome.mode === "standard" ? 1 : 0)),
      deep: mean((t) => (t.outcome.mode === "deep" ? 1 : 0)),
    },
  };
}

/** Mean entropy (nats) of the distributions the batch's decisions were sampled from. */
function meanEntropy(traces: readonly Trace[]): number {
  let total = 0;
  let count = 0;
  for (const trace of traces) {
    for (const step of trace.steps) {
      for (const p of step.choice.probabilities) if (p > 0) total -= p * Math.log(p);
      count++;
    }
  }
  return total / Math.max(1, count);
}

function normaliseInPlace(values: Float32Array): void {
  const n = values.length;
  if (n < 2) return;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / n) + 1e-8;
  for (let i = 0; i < n; i++) values[i] = (values[i]! - mean) / std;
}

function shuffled(n: number, rng: Prng): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
