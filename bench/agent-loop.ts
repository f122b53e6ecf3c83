/**
 * npm run bench:agent-loop — the sandbox as agents use it: 200 sequential small batches of 1-3
 * programs (a visible-example check, a Tester run, a hidden verdict), canonical HumanEval
 * solutions and broken ones mixed. Prints p50 / p95 latency per batch with the warm pool (target:
 * p50 < 30 ms) against a runner started per batch (KODERZ_SANDBOX_POOL=0), measured in the same
 * run, and their ratio. The warm pool runs twice: back to back, where every program's fresh
 * candidate process is made on the batch's clock, and --think ms apart, as agents call it between
 * model turns, where the runner makes them while it waits. Asserts nothing.
 * Options: --batches N (default 200), --think MS (default 300), --sandbox docker|process (default: both).
 */
import { availableParallelism, loadavg } from "node:os";
import { setTimeout } from "node:timers/promises";
import { openSandbox } from "../sandbox/select.js";
import type { Program, SandboxName } from "../sandbox/sandbox.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "../src/evaluation/program.js";
import { loadSuite } from "../tasks/load.js";
import { benchDataset, benchArgs } from "./bench-args.js";

const args = benchArgs();
const batches = Math.max(1, Number(args.get("batches") ?? 200));
const thinkMs = Math.max(0, Number(args.get("think") ?? 300));
const sandboxes: SandboxName[] = args.has("sandbox") ? [args.get("sandbox") as SandboxName] : ["docker", "process"];
const say = (line = ""): void => void process.stdout.write(line + "\n");

const tasks = await loadSuite({ suite: "humaneval", dataset: benchDataset(args) });
/** Batch i: 1-3 programs, every fourth one a completion that fails its test. */
function batch(i: number): Program[] {
  return Array.from({ length: 1 + (i % 3) }, (_, j) => {
    const task = tasks[(i * 3 + j) % tasks.length]!;
    const code = (i + j) % 4 === 3 ? "    return None\n" : task.canonicalSolution;
    return { id: `${i}-${j}`, ...verdictProgram(task, code), timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  });
}

say(`koderz bench:agent-loop — ${batches} sequential batches of 1-3 programs`);
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
say(`warm pool: back to back, and ${thinkMs} ms apart as between an agent's model turns (a turn takes longer)`);
for (const name of sandboxes) {
  // The cold baseline is slow (a runner start per batch): a quarter of the batches say enough.
  const cold = await latencies(name, "0", Math.max(1, Math.round(batches / 4)), 0);
  if (!cold) continue;
  const backToBack = (await latencies(name, "2", batches, 0))!;
  const betweenTurns = (await latencies(name, "2", batches, thinkMs))!;
  const target = (p50: number): string => (p50 < 30 ? "met" : "MISSED");
  say(
    `${name.padEnd(8)} runner per batch p50 ${cold.p50.toFixed(1)} ms  p95 ${cold.p95.toFixed(1)} ms` +
      `   warm back to back p50 ${backToBack.p50.toFixed(1)} ms  p95 ${backToBack.p95.toFixed(1)} ms (${target(backToBack.p50)})` +
      `   warm between turns p50 ${betweenTurns.p50.toFixed(1)} ms  p95 ${betweenTurns.p95.toFixed(1)} ms (${target(betweenTurns.p50)})` +
      `   ratio ${(betweenTurns.p50 / cold.p50).toFixed(2)}   (target p50 < 30 ms)`,
  );
}
delete process.env.KODERZ_SANDBOX_POOL;

/** p50 and p95 of `count` batches, `pause` ms apart; null when the sandbox cannot start. */
async function latencies(name: SandboxName, pool: string, count: number, pause: number): Promise<{ p50: number; p95: number } | null> {
  // Read when the sandbox is made: 0 turns the pool off.
  process.env.KODERZ_SANDBOX_POOL = pool;
  const sandbox = await openSandbox(name, { onNotice: () => undefined }).catch((error: unknown) => {
    say(`${name.padEnd(8)} unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  if (!sandbox) return null;
  try {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      if (pause > 0) await setTimeout(pause);
      const started = performance.now();
      await sandbox.run(batch(i));
      times.push(performance.now() - started);
    }
    // The first warm batch starts the runner: it is the cold start, not the loop.
    if (pool !== "0") times.shift();
    return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
  } finally {
    await sandbox.close();
  }
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}
