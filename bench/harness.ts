/**
 * npm run bench:harness — how fast each sandbox gives verdicts on the 164 canonical HumanEval
 * solutions (target: under 2 s wall in Docker on a 2-core machine; the reference Python
 * harness, unsandboxed, takes about 3.3 s there). Prints figures; asserts nothing.
 *   wall          run() of the whole batch, container start-up included
 *   problems/s    164 / wall
 *   overhead      per problem, the worker time not spent running the program itself:
 *                 (wall x workers - sum of program run times) / problems
 * Options: --dataset PATH (default: $KODERZ_DATA_DIR, else ../shared/datasets beside the repo),
 *          --repeat N (default 3; the best and the median are shown), --sandbox docker|process,
 *          --workers N (default: the host's cores).
 */
import { existsSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openSandbox } from "../sandbox/select.js";
import type { Program, SandboxName, Verdict } from "../sandbox/sandbox.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "../src/evaluation/program.js";
import { loadSuite } from "../tasks/load.js";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1] ?? "");
const repeat = Math.max(1, Number(args.get("repeat") ?? 3));
const workers = Number(args.get("workers") ?? availableParallelism());
const sandboxes: SandboxName[] = args.has("sandbox") ? [args.get("sandbox") as SandboxName] : ["docker", "process"];

const say = (line = ""): void => void process.stdout.write(line + "\n");

const tasks = await loadSuite({ suite: "humaneval", dataset: defaultDataset() });
const programs: Program[] = tasks.map((task) => ({
  id: task.id,
  ...verdictProgram(task, task.canonicalSolution),
  timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
}));

say(`koderz bench:harness — ${programs.length} canonical HumanEval solutions, ${workers} workers, ${repeat} runs each (best / median)`);
// Wall times stretch with whatever else this machine runs; the load says how much.
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
for (const name of sandboxes) {
  let notice = "";
  const sandbox = await openSandbox(name, { workers, onNotice: (message) => (notice = message.split("\n")[0] ?? "") }).catch((error: unknown) => {
    say(`${name.padEnd(8)} unavailable: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  if (!sandbox) continue;
  try {
    const runs: { wallMs: number; verdicts: Verdict[] }[] = [];
    for (let i = 0; i < repeat; i++) {
      const started = performance.now();
      const verdicts = await sandbox.run(programs, { workers });
      runs.push({ wallMs: performance.now() - started, verdicts });
    }
    runs.sort((a, b) => a.wallMs - b.wallMs);
    const best = runs[0]!;
    const median = runs[Math.floor(runs.length / 2)]!;
    const passed = best.verdicts.filter((verdict) => verdict.passed).length;
    const programMs = best.verdicts.reduce((sum, verdict) => sum + verdict.durationMs, 0);
    const overheadMs = (best.wallMs * workers - programMs) / programs.length;
    const target = name === "docker" ? (best.wallMs < 2000 ? "  (target < 2 s: met)" : "  (target < 2 s: MISSED)") : "";
    say(
      `${sandbox.name.padEnd(8)} wall ${seconds(best.wallMs)} / ${seconds(median.wallMs)}` +
        `   ${(programs.length / (best.wallMs / 1000)).toFixed(0)} problems/s` +
        `   overhead ${overheadMs.toFixed(1)} ms/problem` +
        `   passed ${passed}/${programs.length}${target}`,
    );
    if (notice) say(`         note: ${notice}`);
    const failures = best.verdicts.filter((verdict) => !verdict.passed).slice(0, 3);
    for (const verdict of failures) say(`         not passed: ${verdict.id}: ${verdict.result}`);
  } finally {
    await sandbox.close();
  }
}

function defaultDataset(): string | undefined {
  if (args.has("dataset")) return args.get("dataset");
  if (process.env.KODERZ_DATA_DIR) return undefined;
  const repoRoot = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));
  const beside = path.resolve(repoRoot, "../shared/datasets/HumanEval.jsonl.gz");
  return existsSync(beside) ? beside : undefined;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
