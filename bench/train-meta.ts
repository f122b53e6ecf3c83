/**
 * npm run bench:train-meta — the 10 000-episode synthetic run, `koderz train-meta --episodes
 * 10000`, timed end to end as a user's shell sees it (Node's start, training, the held-out
 * comparison, the policy file), against a lean baseline measured in the same run: a fresh Node
 * process that plays the same 10 000 synthetic episodes (same seed, same batch of 200
 * environments) with a fixed rule (always-standard's script) and no network, i.e. the
 * simulator's own cost. Rounds are interleaved, so the ratio holds when the machine is busy.
 * Target: < 15 s wall on a quiet 2-core machine. Prints figures; asserts nothing.
 *
 * Options: --repeat N (default 3: the median is shown), --episodes N (10000), --seed N (1),
 * --backend auto|wasm|cpu (auto). Internal: --baseline 1 runs one baseline and prints its times.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs, REPO_ROOT } from "./bench-args.js";

const args = benchArgs();
const episodes = Number(args.get("episodes") ?? 10_000);
const seed = Number(args.get("seed") ?? 1);
const repeat = Math.max(1, Number(args.get("repeat") ?? 3));
const backend = args.get("backend") ?? "auto";
const say = (line = ""): void => void process.stdout.write(line + "\n");

if (args.get("baseline")) await baselineChild();
else runBench();

/** One lean baseline in this process: the simulator's episodes under a fixed rule, no tensors. */
async function baselineChild(): Promise<void> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const { fixedModeController } = await import("../training/controllers.js");
  const { actionsOnly, playEpisodes } = await import("../training/rollout.js");
  const { syntheticExperience } = await import("../training/session.js");
  const { DEFAULT_REWARD_CONFIG } = await import("../training/rewards.js");
  const { DEFAULT_PPO_SETTINGS } = await import("../training/train.js");
  const rule = fixedModeController("standard");
  const environments = syntheticExperience(seed, DEFAULT_REWARD_CONFIG, 0).training(DEFAULT_PPO_SETTINGS.batchEpisodes);
  let played = 0;
  while (played < episodes) {
    const batch = environments.slice(0, Math.min(environments.length, episodes - played));
    played += (await playEpisodes(batch, actionsOnly((observations) => rule.act(observations)))).length;
  }
  const cpu = process.cpuUsage(cpuStarted);
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, episodes: played }) + "\n");
}

interface Timing {
  wall: number;
  /** What the run says of itself: its training's wall and processor seconds, or the baseline's. */
  inner: number;
  cpu: number;
}

function runBench(): void {
  const cli = path.join(REPO_ROOT, "dist/src/cli/main.js");
  const self = fileURLToPath(import.meta.url);
  const scratch = mkdtempSync(path.join(tmpdir(), "koderz-bench-train-meta-"));
  say(`koderz bench:train-meta — koderz train-meta --episodes ${episodes} (SYNTHETIC simulator, seed ${seed}), median of ${repeat}, interleaved with a lean baseline`);
  say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
  const runs: Timing[] = [];
  const baselines: Timing[] = [];
  let table = "";
  try {
    for (let round = 0; round < repeat; round++) {
      const base = timed(process.execPath, [self, "--baseline", "1", "--episodes", String(episodes), "--seed", String(seed)]);
      const figures = JSON.parse(base.stdout.trim().split("\n").at(-1)!) as { seconds: number; cpuSeconds: number };
      baselines.push({ wall: base.wall, inner: figures.seconds, cpu: figures.cpuSeconds });

      const out = path.join(scratch, `policy-${round}.json`);
      const run = timed(process.execPath, [cli, "train-meta", "--episodes", String(episodes), "--seed", String(seed), "--backend", backend, "--out", out]);
      // "trained N episodes in X s (processor Y s; U updates)", on stderr with the other progress lines.
      const trained = /trained \d+ episodes in ([\d.]+) s \(processor ([\d.]+) s/.exec(run.stderr);
      if (!trained) throw new Error(`train-meta did not say how long it trained:\n${run.stderr.slice(-2000)}`);
      runs.push({ wall: run.wall, inner: Number(trained[1]), cpu: Number(trained[2]) });
      table = run.stdout.trimEnd();
      say(`  round ${round + 1}: train-meta ${run.wall.toFixed(1)} s, baseline ${base.wall.toFixed(1)} s`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const run = medianTiming(runs);
  const base = medianTiming(baselines);
  say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} after`);
  say();
  say(`train-meta --episodes ${episodes}, the whole command: ${run.wall.toFixed(1)} s wall (training ${run.inner.toFixed(1)} s, its processor time ${run.cpu.toFixed(1)} s)`);
  say(`lean baseline, the same ${episodes} episodes by a fixed rule, no network: ${base.wall.toFixed(1)} s wall (in the process, its imports included: ${base.inner.toFixed(1)} s, processor ${base.cpu.toFixed(1)} s)`);
  say(`ratio: ${(run.wall / base.wall).toFixed(2)}x the baseline's wall time (training's processor time ${(run.cpu / base.cpu).toFixed(2)}x the baseline's)`);
  say(`target: < 15 s wall on a quiet machine: ${run.wall < 15 ? "met" : "MISSED"} here`);
  say();
  say("what the last run learned (held-out episodes):");
  say(table);
}

function timed(command: string, argv: string[]): { wall: number; stdout: string; stderr: string } {
  const started = performance.now();
  const child = spawnSync(command, argv, { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wall = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`${path.basename(argv[0] ?? command)} ${argv.slice(1).join(" ")} exited ${child.status}:\n${child.stderr.slice(-2000)}`);
  return { wall, stdout: child.stdout, stderr: child.stderr };
}

/** Each figure's median over the rounds. */
function medianTiming(timings: readonly Timing[]): Timing {
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  return { wall: median(timings.map((t) => t.wall)), inner: median(timings.map((t) => t.inner)), cpu: median(timings.map((t) => t.cpu)) };
}
