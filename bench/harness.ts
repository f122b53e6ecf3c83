/**
 * npm run bench:harness — koderz's verdicts against the reference harness's own method, both
 * measured in this run on this machine (absolute times move 2x from day to day; ratios do not).
 *   HumanEval   `koderz evaluate` of the 164 canonical solutions through the CLI, end to end
 *               (node start, dataset, sandbox start included), against bench/reference-harness.py
 *               (a warm Python forking a process per program, no sandbox) on the same samples
 *               with the same workers. Target ratio <= 1.0 in Docker.
 *   HumanEval+  the same with every plus test, time-limit calibration included (a fresh cache),
 *               against the reference on the same plus-tests file. Target ratio <= 0.8. The
 *               reference's 4 s limit stops four heavy canonical programs (counted failed) that
 *               koderz runs to their pass, so it is timed again with a limit they all fit in:
 *               the same work, and a second ratio. Then koderz again with the limits the
 *               calibration cached: what every evaluation after the first costs (no target).
 *   run()       the sandbox alone on the 164 programs: wall and overhead per problem, the
 *               worker time not spent running programs: (wall x workers - program time) / problems.
 *   under load  (--load N) HumanEval+ in each sandbox again while N other processes keep a core
 *               busy each, against its quiet time above, and the reference method likewise
 *               (what the load costs a harness with no sandbox). Target <= 1.5x with N = 2.
 * Prints figures; asserts nothing. Options: --repeat N (default 3: best and median shown),
 * --sandbox docker|process (default both), --workers N (default: the host's cores), --load N.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { openSandbox } from "../sandbox/select.js";
import type { Program, SandboxName, Verdict } from "../sandbox/sandbox.js";
import { DEFAULT_TIMEOUT_SECONDS, verdictProgram } from "../src/evaluation/program.js";
import { SUITE_SOURCES } from "../tasks/dataset-location.js";
import { loadSuite } from "../tasks/load.js";
import { benchArgs, datasetsDir, REPO_ROOT } from "./bench-args.js";

const args = benchArgs();
const repeat = Math.max(1, Number(args.get("repeat") ?? 3));
const workers = Number(args.get("workers") ?? availableParallelism());
const sandboxes: SandboxName[] = args.has("sandbox") ? [args.get("sandbox") as SandboxName] : ["docker", "process"];
const busyProcesses = Number(args.get("load") ?? 0);
const say = (line = ""): void => void process.stdout.write(line + "\n");

const CLI = path.join(REPO_ROOT, "dist/src/cli/main.js");
const REFERENCE = path.join(REPO_ROOT, "bench/reference-harness.py");
/** Long enough for HumanEval+'s heaviest canonical program on a busy machine. */
const SAME_WORK_TIMEOUT_SECONDS = 120;
type Suite = "humaneval" | "humaneval+";

say(`koderz bench:harness — 164 canonical solutions, ${workers} workers, ${repeat} runs each (best / median)`);
// Wall times stretch with whatever else this machine runs; the load says how much.
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
const scratch = await mkdtemp(path.join(tmpdir(), "koderz-bench-harness-"));
try {
  await cliAgainstReference("humaneval");
  const quiet = await cliAgainstReference("humaneval+");
  if (busyProcesses > 0) await underLoad(quiet);
  await sandboxAlone();
} finally {
  await rm(scratch, { recursive: true, force: true });
}

/** Best walls of one suite, in seconds: the reference method's, and koderz's per sandbox. */
interface BestWalls {
  reference: number;
  koderz: Map<SandboxName, number>;
}

/** `koderz evaluate` through the CLI against the reference method, best of `repeat`. */
async function cliAgainstReference(suite: Suite): Promise<BestWalls> {
  const { problemsFile, samples } = suiteFiles(suite);
  const tasks = await loadSuite({ suite, dataset: problemsFile });
  await writeFile(samples, tasks.map((task) => JSON.stringify({ task_id: task.id, completion: task.canonicalSolution })).join("\n") + "\n");
  const reference: number[] = [];
  for (let i = 0; i < repeat; i++) reference.push(await referenceSeconds(problemsFile, samples, DEFAULT_TIMEOUT_SECONDS));
  const referenceBest = Math.min(...reference);
  say();
  say(`${suite}: reference method ${seconds(referenceBest)} / ${seconds(median(reference))}`);
  // HumanEval+ only: its heavy programs outlast the reference's limit, koderz's scaled ones do not.
  const sameWork: number[] = [];
  for (let i = 0; suite === "humaneval+" && i < repeat; i++) sameWork.push(await referenceSeconds(problemsFile, samples, SAME_WORK_TIMEOUT_SECONDS));
  if (sameWork.length) say(`${suite}: reference method, every program run to its end (limit ${SAME_WORK_TIMEOUT_SECONDS} s) ${seconds(Math.min(...sameWork))} / ${seconds(median(sameWork))}`);
  const target = suite === "humaneval" ? 1.0 : 0.8;
  const best = new Map<SandboxName, number>();
  const line = (label: string, name: SandboxName, { walls, outcome }: Evaluated, judged = true): string => {
    const ratio = Math.min(...walls) / referenceBest;
    const verdict = judged && name === "docker" ? `   (target <= ${target.toFixed(1)}: ${ratio <= target ? "met" : "MISSED"})` : "";
    const sameWorkRatio = sameWork.length ? `   same-work ratio ${(Math.min(...walls) / Math.min(...sameWork)).toFixed(2)}` : "";
    return `  ${name.padEnd(8)} ${label} ${seconds(Math.min(...walls))} / ${seconds(median(walls))}   ratio ${ratio.toFixed(2)}${sameWorkRatio}   ${outcome}${verdict}`;
  };
  for (const name of sandboxes) {
    const fresh = await koderzEvaluate(suite, name);
    say(line("koderz evaluate", name, fresh));
    best.set(name, Math.min(...fresh.walls));
    // What every evaluation after the first costs: the limits measured above, read from the cache.
    if (suite === "humaneval+") say(line("koderz evaluate, limits cached", name, await koderzEvaluate(suite, name, fresh.cache), false));
  }
  return { reference: referenceBest, koderz: best };
}

/** A suite's problems file, and where cliAgainstReference writes its canonical samples. */
function suiteFiles(suite: Suite): { problemsFile: string; samples: string } {
  return { problemsFile: path.join(datasetsDir(), SUITE_SOURCES[suite].fileNames[0]), samples: path.join(scratch, `${suite}-canonical.jsonl`) };
}

interface Evaluated {
  walls: number[];
  outcome: string;
  /** The time-limit cache the last run used. */
  cache: string;
}

/**
 * `repeat` runs of `koderz evaluate` on a suite's canonical samples (written by cliAgainstReference),
 * each with a fresh time-limit cache (HumanEval+ calibrates its limits, and that is part of the
 * run), or with `cachedLimits`, a cache an earlier run left.
 */
async function koderzEvaluate(suite: Suite, name: SandboxName, cachedLimits?: string): Promise<Evaluated> {
  const { problemsFile, samples } = suiteFiles(suite);
  const walls: number[] = [];
  let outcome = "";
  let cache = "";
  for (let i = 0; i < repeat; i++) {
    cache = cachedLimits ?? (await mkdtemp(path.join(scratch, "cache-")));
    const started = performance.now();
    const run = await execa("node", [CLI, "evaluate", samples, "--dataset", problemsFile, "--sandbox", name, "--workers", String(workers), "--k", "1", "--json"], {
      reject: false,
      env: { KODERZ_CACHE_DIR: cache, KODERZ_SANDBOX_POOL: "2" },
    });
    walls.push((performance.now() - started) / 1000);
    outcome = run.exitCode === 0 ? `pass@1 ${(JSON.parse(run.stdout) as { passAtK: Record<string, number> }).passAtK["pass@1"]}` : `FAILED (exit ${run.exitCode}): ${run.stderr.split("\n").slice(-2).join(" ")}`;
  }
  return { walls, outcome, cache };
}

/**
 * HumanEval+ again while --load N processes each spin on a core, against the quiet best of the
 * same run; the reference method too, which says what the load costs a harness without a sandbox.
 */
async function underLoad(quiet: BestWalls): Promise<void> {
  say();
  say(`humaneval+ under a load of ${busyProcesses} busy process${busyProcesses === 1 ? "" : "es"} (python3 spinning), against the quiet runs above`);
  const busy = Array.from({ length: busyProcesses }, () => execa("python3", ["-c", "while True: pass"], { reject: false }));
  try {
    const { problemsFile, samples } = suiteFiles("humaneval+");
    const reference: number[] = [];
    for (let i = 0; i < repeat; i++) reference.push(await referenceSeconds(problemsFile, samples, DEFAULT_TIMEOUT_SECONDS));
    say(`  reference method ${seconds(Math.min(...reference))} / ${seconds(median(reference))}   ${(Math.min(...reference) / quiet.reference).toFixed(2)}x its quiet run`);
    for (const name of sandboxes) {
      const { walls, outcome } = await koderzEvaluate("humaneval+", name);
      const slowdown = Math.min(...walls) / quiet.koderz.get(name)!;
      say(`  ${name.padEnd(8)} koderz evaluate ${seconds(Math.min(...walls))} / ${seconds(median(walls))}   ${slowdown.toFixed(2)}x the quiet run   ${outcome}   (target <= 1.5x: ${slowdown <= 1.5 ? "met" : "MISSED"})`);
    }
  } finally {
    for (const child of busy) child.kill("SIGKILL");
    await Promise.all(busy);
  }
}

async function referenceSeconds(problemsFile: string, samples: string, timeoutSeconds: number): Promise<number> {
  const started = performance.now();
  const run = await execa("python3", [REFERENCE, problemsFile, samples, String(workers), String(timeoutSeconds)]);
  const report = JSON.parse(run.stdout) as { passed: number; total: number };
  if (report.passed !== report.total) say(`  note: the reference passed ${report.passed}/${report.total} of ${path.basename(problemsFile)} (timeout ${timeoutSeconds} s)`);
  return (performance.now() - started) / 1000;
}

/** The sandbox's run() on the 164 HumanEval programs, without the CLI around it. */
async function sandboxAlone(): Promise<void> {
  const tasks = await loadSuite({ suite: "humaneval", dataset: path.join(datasetsDir(), SUITE_SOURCES.humaneval.fileNames[0]) });
  const programs: Program[] = tasks.map((task) => ({ id: task.id, ...verdictProgram(task, task.canonicalSolution), timeoutSeconds: DEFAULT_TIMEOUT_SECONDS }));
  say();
  say("run() alone, humaneval (the first run starts the runner; the pool keeps it for the next)");
  for (const name of sandboxes) {
    const sandbox = await openSandbox(name, { workers, onNotice: () => undefined }).catch((error: unknown) => {
      say(`  ${name.padEnd(8)} unavailable: ${error instanceof Error ? error.message : String(error)}`);
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
      const best = [...runs].sort((a, b) => a.wallMs - b.wallMs)[0]!;
      const passed = best.verdicts.filter((verdict) => verdict.passed).length;
      const programMs = best.verdicts.reduce((sum, verdict) => sum + verdict.durationMs, 0);
      const overheadMs = (best.wallMs * workers - programMs) / programs.length;
      say(
        `  ${sandbox.name.padEnd(8)} wall ${seconds(best.wallMs / 1000)} / ${seconds(median(runs.map((run) => run.wallMs / 1000)))}` +
          `   ${(programs.length / (best.wallMs / 1000)).toFixed(0)} problems/s   overhead ${overheadMs.toFixed(1)} ms/problem   passed ${passed}/${programs.length}`,
      );
    } finally {
      await sandbox.close();
    }
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}
