/**
 * npm run bench:agent-loop — the sandbox as agents use it: 200 sequential small batches of 1-3
 * programs (a visible-example check, a Tester run, a hidden verdict), canonical HumanEval
 * solutions and broken ones mixed. Prints p50 / p95 latency per batch with the warm pool (target:
 * p50 < 30 ms) against a runner started per batch (KODERZ_SANDBOX_POOL=0), measured in the same
 * run, and their ratio. Asserts nothing.
 * Options: --batches N (default 200), --sandbox docker|process (default: both).
 */
import { availableParallelism, loadavg } from "node:os";
import { openSandbox } from "../sandbox/select.js";
import type { Program, SandboxName } from "../sandbox/sandbox.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "../src/evaluation/program.js";
import { loadSuite } from "../tasks/load.js";
import { benchDataset, benchArgs } from "./bench-args.js";

const args = benchArgs();
const batches = Math.max(1, Number(args.get("batches") ?? 200));
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
for (const name of sandboxes) {
  const figures: Record<"warm" | "cold", { p50: number; p95: number }> = { warm: { p50: 0, p95: 0 }, cold: { p50: 0, p95: 0 } };
  for (const pool of ["cold", "warm"] as const) {
    // Read when the sandbox is made: 0 turns the pool off.
    process.env.KODERZ_SANDBOX_POOL = pool === "warm" ? "2" : "0";
    const sandbox = await openSandbox(name, { onNotice: () => undefined }).catch((error: unknown) => {
      say(`${name.padEnd(8)} unavailable: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    if (!sandbox) break;
    try {
      // The cold baseline is slow (a runner start per batch): a quarter of the batches say enough.
      const count = pool === "warm" ? batches : Math.max(1, Math.round(batches / 4));
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        await sandbox.run(batch(i));
        latencies.push(performance.now() - started);
      }
      // The first warm batch starts the runner: it is the cold start, not the loop.
      if (pool === "warm") latencies.shift();
      figures[pool] = { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) };
    } finally {
      await sandbox.close();
    }
  }
  const { warm, cold } = figures;
  if (!warm.p50) continue;
  say(
    `${name.padEnd(8)} warm pool p50 ${warm.p50.toFixed(1)} ms  p95 ${warm.p95.toFixed(1)} ms` +
      `   runner per batch p50 ${cold.p50.toFixed(1)} ms  p95 ${cold.p95.toFixed(1)} ms` +
      `   ratio ${(warm.p50 / cold.p50).toFixed(2)}   (target p50 < 30 ms: ${warm.p50 < 30 ? "met" : "MISSED"})`,
  );
}
delete process.env.KODERZ_SANDBOX_POOL;

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}
