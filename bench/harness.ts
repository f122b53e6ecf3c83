/**
 * npm run bench:harness — koderz's verdicts against a lean baseline measured in this run on this
 * machine (absolute times move 2x from day to day, and with whatever else runs; ratios do not).
 *   lean baseline  bench/lean-baseline.py: as many single-threaded warm Pythons as workers, each
 *               forking a process per program that runs prompt + completion + test + check()
 *               with nothing around it (no sandbox, no judge), every program to its end.
 *               Issue 27's targets are against it:
 *   HumanEval   `koderz evaluate` of the 164 canonical solutions through the CLI, end to end
 *               (node start, dataset, sandbox start included). Target <= 3x.
 *   HumanEval+  the same with every plus test and an empty time-limit cache (calibration
 *               included, "fresh"), target <= 1.3x; then with the limits it cached ("cached",
 *               what every evaluation after the first costs), target <= 1.0x.
 *   run()       the sandbox alone on the 164 HumanEval programs: wall and overhead per problem,
 *               the worker time not spent running programs: (wall x workers - program time) /
 *               problems. Target: overhead <= 2x the lean baseline's time per program.
 *   reference   (skip with --reference 0) bench/reference-harness.py, the reference harness's own
 *               method (a thread pool feeding multiprocessing, a Manager), for continuity with
 *               earlier figures; for HumanEval+ also with a limit every program fits in.
 *   under load  (--load N) HumanEval+ in each sandbox again while N other processes keep a core
 *               busy each, against its quiet time above, and the reference method likewise
 *               (what the load costs a harness with no sandbox). Target <= 1.5x with N = 2.
 * Prints figures; asserts nothing. Options: --repeat N (default 3: best and median shown, ratios
 * of medians), --sandbox docker|process (default both), --workers N (default: the host's cores),
 * --load N, --reference 0|1.
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
const withReference = args.get("reference") !== "0";
const say = (line = ""): void => void process.stdout.write(line + "\n");

const CLI = path.join(REPO_ROOT, "dist/src/cli/main.js");
const REFERENCE = path.join(REPO_ROOT, "bench/reference-harness.py");
const LEAN_BASELINE = path.join(REPO_ROOT, "bench/lean-baseline.py");
/** Issue 27's targets, as ratios of koderz's median wall to the lean baseline's. */
const TARGETS = { humaneval: 3.0, fresh: 1.3, cached: 1.0, overheadPerProgram: 2.0 };
/** Long enough for HumanEval+'s heaviest canonical program on a busy machine. */
const SAME_WORK_TIMEOUT_SECONDS = 120;
type Suite = "humaneval" | "humaneval+";

say(`koderz bench:harness — 164 canonical solutions, ${workers} workers, ${repeat} runs each (best / median; ratios of medians)`);
// Wall times stretch with whatever else this machine runs; the load says how much.
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
const scratch = await mkdtemp(path.join(tmpdir(), "koderz-bench-harness-"));
try {
  const lean = await cliAgainstReference("humaneval");
  const quiet = await cliAgainstReference("humaneval+");
  if (busyProcesses > 0) await underLoad(quiet);
  await sandboxAlone(lean.lean);
} finally {
  await rm(scratch, { recursive: true, force: true });
}

/** Walls of one suite, in seconds: the reference method's best, the lean baseline's median, and koderz's best per sandbox. */
interface BestWalls {
  reference: number;
  lean: number;
  koderz: Map<SandboxName, number>;
}

/** `koderz evaluate` through the CLI against the lean baseline (and the reference method), `repeat` runs each. */
async function cliAgainstReference(suite: Suite): Promise<BestWalls> {
  const { problemsFile, samples } = suiteFiles(suite);
  const tasks = await loadSuite({ suite, dataset: problemsFile });
  await writeFile(samples, tasks.map((task) => JSON.stringify({ task_id: task.id, completion: task.canonicalSolution })).join("\n") + "\n");
  say();
  // Every program to its end: HumanEval+'s heavy ones outlast the reference's 3 s, koderz's scaled limits do not.
  const leanTimeout = suite === "humaneval" ? DEFAULT_TIMEOUT_SECONDS : SAME_WORK_TIMEOUT_SECONDS;
  const lean: number[] = [];
  for (let i = 0; i < repeat; i++) lean.push(await baselineSeconds(LEAN_BASELINE, problemsFile, samples, leanTimeout));
  const leanMedian = median(lean);
  say(`${suite}: lean baseline ${seconds(Math.min(...lean))} / ${seconds(leanMedian)}   (${((leanMedian * workers * 1000) / tasks.length).toFixed(1)} ms per program)`);
  const reference: number[] = [];
  for (let i = 0; withReference && i < repeat; i++) reference.push(await baselineSeconds(REFERENCE, problemsFile, samples, DEFAULT_TIMEOUT_SECONDS));
  if (reference.length) say(`${suite}: reference method ${seconds(Math.min(...reference))} / ${seconds(median(reference))}`);
  const sameWork: number[] = [];
  for (let i = 0; withReference && suite === "humaneval+" && i < repeat; i++) sameWork.push(await baselineSeconds(REFERENCE, problemsFile, samples, SAME_WORK_TIMEOUT_SECONDS));
  if (sameWork.length) say(`${suite}: reference method, every program run to its end (limit ${SAME_WORK_TIMEOUT_SECONDS} s) ${seconds(Math.min(...sameWork))} / ${seconds(median(sameWork))}`);
  const best = new Map<SandboxName, number>();
  const line = (label: string, name: SandboxName, { walls, outcome }: Evaluated, target: number): string => {
    const ratio = median(walls) / leanMedian;
    const verdict = name === "docker" ? `   (target <= ${target.toFixed(1)}: ${ratio <= target ? "met" : "MISSED"})` : "";
    const referenceRatio = reference.length ? `   reference ratio ${(median(walls) / median(sameWork.length ? sameWork : reference)).toFixed(2)}` : "";
    return `  ${name.padEnd(8)} ${label} ${seconds(Math.min(...walls))} / ${seconds(median(walls))}   lean ratio ${ratio.toFixed(2)}${referenceRatio}   ${outcome}${verdict}`;
  };
  for (const name of sandboxes) {
    const fresh = await koderzEvaluate(suite, name);
    say(line(suite === "humaneval" ? "koderz evaluate" : "koderz evaluate, fresh limits", name, fresh, suite === "humaneval" ? TARGETS.humaneval : TARGETS.fresh));
    best.set(name, Math.min(...fresh.walls));
    // What every evaluation after the first costs: the limits measured above, read from the cache.
    if (suite === "humaneval+") say(line("koderz evaluate, limits cached", name, await koderzEvaluate(suite, name, fresh.cache), TARGETS.cached));
  }
  return { reference: reference.length ? Math.min(...reference) : NaN, lean: leanMedian, koderz: best };
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
    for (let i = 0; i < repeat; i++) reference.push(await baselineSeconds(REFERENCE, problemsFile, samples, DEFAULT_TIMEOUT_SECONDS));
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

/** One run of a baseline script (the lean baseline or the reference method), in seconds. */
async function baselineSeconds(script: string, problemsFile: string, samples: string, timeoutSeconds: number): Promise<number> {
  const started = performance.now();
  const run = await execa("python3", [script, problemsFile, samples, String(workers), String(timeoutSeconds)]);
  const report = JSON.parse(run.stdout) as { passed: number; total: number };
  if (report.passed !== report.total) say(`  note: ${path.basename(script)} passed ${report.passed}/${report.total} of ${path.basename(problemsFile)} (timeout ${timeoutSeconds} s)`);
  return (performance.now() - started) / 1000;
}

/**
 * The sandbox's run() on the 164 HumanEval programs, without the CLI around it; its overhead per
 * program against the lean baseline's whole time per program (`leanSeconds`: its median wall).
 */
async function sandboxAlone(leanSeconds: number): Promise<void> {
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
      const leanMs = (leanSeconds * workers * 1000) / programs.length;
      const ratio = overheadMs / leanMs;
      const verdict = sandbox.name === "docker" ? `   (target <= ${TARGETS.overheadPerProgram.toFixed(1)}: ${ratio <= TARGETS.overheadPerProgram ? "met" : "MISSED"})` : "";
      say(
        `  ${sandbox.name.padEnd(8)} wall ${seconds(best.wallMs / 1000)} / ${seconds(median(runs.map((run) => run.wallMs / 1000)))}` +
          `   ${(programs.length / (best.wallMs / 1000)).toFixed(0)} problems/s   overhead ${overheadMs.toFixed(1)} ms/problem` +
          ` = ${ratio.toFixed(2)}x the lean baseline's ${leanMs.toFixed(1)} ms per program   passed ${passed}/${programs.length}${verdict}`,
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
