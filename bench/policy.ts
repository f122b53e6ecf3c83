/**
 * npm run bench:policy — the meta-controller on the SYNTHETIC environment (a simulator,
 * not model results). Prints figures against targets; asserts nothing:
 *   - wall time of 10 000 training episodes (target: under 30 s on a 2-core machine),
 *   - the learned policy's return as a fraction of the oracle's on held-out tasks (≥ 95 %),
 *   - whether it beats the best fixed mode,
 *   - cumulative-regret growth over the last tenth of training vs the first (under 1/5),
 *   - wasm vs cpu speed for this network (which is the faster default).
 * With --runs ID,... (and optionally --db, --dataset) it also trains on a replay of those
 * stored runs (e.g. imported with `koderz evaluate --save-run`) and prints the same table
 * on held-out tasks, split by task.
 * Options: --episodes N, --seed N, --backend auto|wasm|cpu|node|node-gpu, --runs, --db, --dataset.
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend, type BackendChoice } from "../policy/backend.js";
import { MetaPolicy } from "../policy/meta-policy.js";
import { bestFixedMode, formatComparison } from "../training/evaluate.js";
import { DEFAULT_REWARD_CONFIG, regretGrowth } from "../training/rewards.js";
import { replayExperience, syntheticExperience, trainAndCompare } from "../training/session.js";
import { replayLogFromStore } from "../training/replay-log.js";
import { loadSuite } from "../tasks/load.js";
import { openStore } from "../src/store/index.js";
import { DEFAULT_PPO_SETTINGS } from "../training/train.js";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1] ?? "");
const episodes = Number(args.get("episodes") ?? 10_000);
const seed = Number(args.get("seed") ?? 1);
const backendChoice = (args.get("backend") ?? "auto") as BackendChoice;
const evaluationEpisodes = 2_000;

const say = (line = ""): void => void process.stdout.write(line + "\n");

say("koderz bench:policy — SYNTHETIC environment (simulator, not model results)");
const active = await useBackend(backendChoice);
say();
say(`training: ${episodes} episodes, seed ${seed}, backend ${active.description}`);
const { result, comparison } = await trainAndCompare({
  experience: syntheticExperience(seed, DEFAULT_REWARD_CONFIG, evaluationEpisodes),
  episodes,
  seed,
});
say(`  wall time ${result.seconds.toFixed(1)} s for ${result.episodes} episodes (target < 30 s), ${result.updates} updates`);
say();
say(formatComparison(comparison));

const learned = comparison.rows.find((row) => row.name === "learned")!;
const bestFixed = bestFixedMode(comparison);
const growth = regretGrowth(result.regret?.series ?? []);
say();
say(`learned return / oracle return: ${(100 * (learned.fractionOfOracle ?? NaN)).toFixed(1)}% (target >= 95%)`);
say(
  `beats the best fixed mode (${bestFixed.name}, ${bestFixed.meanReturn.toFixed(3)}): ${learned.meanReturn > bestFixed.meanReturn ? "yes" : "no"} (learned ${learned.meanReturn.toFixed(3)})`,
);
say(
  `regret per episode: first tenth ${growth.firstTenthRate.toFixed(3)}, last tenth ${growth.lastTenthRate.toFixed(3)}, ratio ${growth.ratio.toFixed(3)} (target < 0.2)`,
);
say(`cumulative regret over training: ${result.regret?.cumulative.toFixed(1)}`);
result.policy.dispose();

const runs = args.get("runs")?.split(",").filter(Boolean);
if (runs?.length) await replaySection(runs);

say();
say("backend speed for this network (one PPO-sized gradient step and one rollout-sized forward pass):");
for (const backend of ["cpu", "wasm"] as const) {
  const timing = await timeBackend(backend);
  say(`  ${backend.padEnd(5)} forward ${timing.forwardMs.toFixed(2)} ms   gradient step ${timing.stepMs.toFixed(2)} ms`);
}

async function replaySection(runIds: string[]): Promise<void> {
  const tasks = await loadSuite({ suite: "humaneval", dataset: args.get("dataset") });
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const store = openStore({ path: args.get("db"), mustExist: true });
  const { log, skipped } = (() => {
    try {
      return replayLogFromStore(store, runIds, (id) => byId.get(id));
    } finally {
      store.close();
    }
  })();
  say();
  say(`replay of runs ${runIds.join(", ")}: ${log.length} tasks (${skipped.length} experiments skipped)`);
  if (log.length < 2) {
    say("  not enough replayable tasks for a held-out comparison");
    return;
  }
  const replay = await trainAndCompare({ experience: replayExperience(log, seed, DEFAULT_REWARD_CONFIG, 0.2), episodes, seed });
  say(`  wall time ${replay.result.seconds.toFixed(1)} s for ${replay.result.episodes} episodes`);
  say(formatComparison(replay.comparison));
  replay.result.policy.dispose();
}

async function timeBackend(backend: "cpu" | "wasm"): Promise<{ forwardMs: number; stepMs: number }> {
  await useBackend(backend);
  const policy = MetaPolicy.initialise(seed);
  const inputSize = policy.network.architecture.inputSize;
  const rows = Array.from({ length: DEFAULT_PPO_SETTINGS.batchEpisodes }, (_, r) => Float32Array.from({ length: inputSize }, (_, i) => ((r * 31 + i * 7) % 13) / 13));
  const optimizer = tf.train.adam(1e-3);
  const minibatch = tf.randomUniform([DEFAULT_PPO_SETTINGS.minibatchSize, inputSize], 0, 1, "float32", seed) as tf.Tensor2D;
  const step = (): void =>
    tf.tidy(() => {
      optimizer.minimize(() => {
        const out = policy.network.forward(minibatch);
        return tf.add(tf.add(tf.mean(tf.square(out.modeLogits)), tf.mean(tf.square(out.agentLogits))), tf.mean(tf.square(out.values))) as tf.Scalar;
      }, false, policy.network.trainableVariables);
    });
  for (let i = 0; i < 5; i++) {
    policy.network.run(rows);
    step();
  }
  const repeats = 40;
  let start = performance.now();
  for (let i = 0; i < repeats; i++) policy.network.run(rows);
  const forwardMs = (performance.now() - start) / repeats;
  start = performance.now();
  for (let i = 0; i < repeats; i++) step();
  const stepMs = (performance.now() - start) / repeats;
  minibatch.dispose();
  optimizer.dispose();
  policy.dispose();
  return { forwardMs, stepMs };
}
