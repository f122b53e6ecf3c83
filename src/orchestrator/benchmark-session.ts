import type { Agent } from "../../agents/agent.js";
import { MODES, type Mode } from "../../policy/actions.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { selectRange } from "../../tasks/load.js";
import { loadConfiguredTasks } from "../../tasks/suite-file.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { checkPrerequisites } from "../prerequisites.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import { withCallLog, type ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import { newRunId, writeRunSummary, type ExperimentRecord, type RunRecord, type Store } from "../store/index.js";
import { parseStoredConfig, type BenchmarkConfig, type UnlistedConfig } from "./benchmark-config.js";
import { checkAgenticPrerequisites } from "./agentic-experiment.js";
import { armsFor, runBenchmark, type BenchmarkJob, type BenchmarkProgress } from "./benchmark-runner.js";
import { chosenModeCounts, openAutoPilot, type OpenedAutoPilot } from "./auto-pilot.js";
import { describeLadder } from "./ladder.js";
import type { FinishedWork } from "./repo-suite-instance.js";
import { runRepoSuiteSession } from "./repo-suite-session.js";
import type { PipelineMode } from "./pipeline.js";
import { backendsByAgent, connectModels, preflightJudge } from "./model-backends.js";
import { asksJudge } from "../evaluation/scorers/rubric.js";

export interface SessionDeps {
  store: Store;
  openSandbox(): Promise<Sandbox>;
  modelConfig?: ModelConfig;
  /** Where the summary JSON goes. */
  resultsDir: string;
  log(message: string): void;
  onStart?(run: RunRecord, tasks: readonly { id: string }[], progress: { total: number; skipped: number }): void;
  onFinished?(finished: FinishedWork): void;
  onStep?: BenchmarkJob["onStep"];
  signal?: AbortSignal;
}

export type SessionRequest =
  | { kind: "new"; config: UnlistedConfig; tags: string[]; stage?: string }
  | { kind: "resume"; runId: string }
  | { kind: "replay"; sourceRunId: string; tags: string[] };

export interface SessionResult {
  run: RunRecord;
  progress: BenchmarkProgress;
  summaryPath: string;
  status: "finished" | "interrupted";
  /** Auto mode: the modes the policy chose over the whole run, and what --learn did in this session. */
  auto?: AutoSummary;
}

export interface AutoSummary {
  modes: Record<Mode, number>;
  policyPath: string;
  learning?: { updates: number; savedTo: string };
}

/**
 * A benchmark run from start to summary: find or create the run, load its tasks, check that its
 * models answer, run what is left, and write the summary JSON. A run stopped by Ctrl-C, an error
 * or a kill keeps every finished experiment and continues with `--resume RUN_ID`.
 */
export async function runBenchmarkSession(request: SessionRequest, deps: SessionDeps): Promise<SessionResult> {
  // Everything that can fail on bad input (config, policy file, dataset, models, sandbox) is
  // checked before the run is written, so a typo leaves no empty run behind.
  const planned = planRun(request, deps.store);
  if (planned.config.reposDir !== undefined) return runRepoSuiteSession({ ...planned, config: listed(planned.config) }, deps);
  const auto = planned.config.mode === "auto" ? await openAutoPilot(planned.config, { runId: planned.runId, kind: request.kind }) : undefined;
  try {
    // A new auto run remembers which policy file it started with (see auto-pilot.ts).
    const config: UnlistedConfig = auto && request.kind === "new" ? { ...planned.config, policySha256: auto.fingerprint } : planned.config;
    return await runPlannedSession(deps, planned, config, auto);
  } finally {
    auto?.close();
  }
}

async function runPlannedSession(
  deps: SessionDeps,
  planned: PlannedRun,
  unlisted: UnlistedConfig,
  auto: OpenedAutoPilot | undefined,
): Promise<SessionResult> {
  // A replay makes no model calls, so nothing needs to answer.
  const ladderModels = unlisted.ladder?.kind === "models" ? unlisted.ladder.models : [];
  const preflightModes = unlisted.replayOf ? [] : modesCalledBy(unlisted.mode);
  // Models, dataset and sandbox are checked together, so a user with nothing set up reads every
  // missing piece in one error (src/prerequisites.ts) rather than one per attempt.
  const [backends, { config, tasks }, sandbox] = await checkPrerequisites([
    { what: "models", check: () => connectModels(unlisted, { modelConfig: deps.modelConfig, preflightModes, extraModels: unlisted.replayOf ? [] : ladderModels }) },
    { what: "dataset", check: () => listedConfig(unlisted) },
    { what: "sandbox", check: () => deps.openSandbox(), release: (opened: Sandbox) => opened.close() },
  ] as const);
  try {
    if (!config.replayOf && tasks.some(asksJudge)) await preflightJudge(config, backends, preflightModes);
    await checkAgenticPrerequisites(tasks);
    const timeLimits = config.suite === "humaneval+" ? await scaledTimeLimits(tasks, sandbox) : new Map<string, number>();
    const arms = armsFor(config.mode);
    const run = planned.begin(config);
    const logged = (experimentId: string) => {
      const callLog = deps.store.callLog({
        runId: run.runId,
        experimentId,
        scope: config.replayOf ? "replay" : "cache",
        replayRunId: config.replayOf,
      });
      const logMode = config.replayOf ? "replay" : config.cache ? "cache" : "record";
      return (backend: ModelBackend) => withCallLog(backend, callLog, logMode);
    };
    const modelsFor = (experimentId: string): Record<Agent, ModelBackend> => backendsByAgent(config, backends, logged(experimentId));
    const ladder = config.ladder && { ladder: config.ladder, backendFor: (experimentId: string, model: string) => logged(experimentId)(backends.get(model)!) };
    if (ladder) deps.log(`auto: ladder ${describeLadder(ladder.ladder)}`);
    if (auto) deps.log(`auto: policy ${auto.loadedFrom}${auto.learning ? `, learning online; updates saved to ${auto.learning.savePath}` : ""}`);

    let progress: BenchmarkProgress;
    try {
      progress = await runBenchmark({
        runId: run.runId,
        tasks,
        arms,
        concurrency: config.concurrency,
        settings: config,
        budget: config.budget,
        store: deps.store,
        sandbox,
        modelsFor,
        hiddenTimeoutSeconds: (task) => timeLimits.get(task.id) ?? task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        autoPilot: auto?.pilot,
        ladder,
        onStart: (progress) => deps.onStart?.(run, tasks, progress),
        onFinished: deps.onFinished,
        onStep: deps.onStep,
        signal: deps.signal,
      });
    } catch (error) {
      deps.store.finishRun(run.runId, "failed");
      writeRunSummary(deps.store, run.runId, deps.resultsDir);
      deps.log(`run ${run.runId} stopped; what finished is saved. Continue it with: koderz benchmark --resume ${run.runId}`);
      throw error;
    }
    const status = deps.signal?.aborted ? "interrupted" : "finished";
    deps.store.finishRun(run.runId, status);
    const summaryPath = writeRunSummary(deps.store, run.runId, deps.resultsDir);
    if (status === "interrupted") deps.log(`interrupted; what finished is saved. Continue with: koderz benchmark --resume ${run.runId}`);
    return { run: deps.store.getRun(run.runId), progress, summaryPath, status, auto: auto && autoSummary(auto, deps.store.experiments(run.runId)) };
  } finally {
    await sandbox.close();
  }
}

export interface PlannedRun {
  /** The new run's id (not yet written), or the resumed run's. */
  runId: string;
  config: UnlistedConfig;
  /** Writes the new run with this config, or reopens the resumed one; returns its record. */
  begin(config: BenchmarkConfig): RunRecord;
}

export function planRun(request: SessionRequest, store: Store): PlannedRun {
  if (request.kind === "resume") {
    const run = store.getRun(request.runId);
    return {
      runId: run.runId,
      config: storedConfig(run),
      begin: () => {
        store.reopenRun(run.runId);
        return store.getRun(run.runId);
      },
    };
  }
  const runId = newRunId("bench");
  return {
    runId,
    config:
      request.kind === "replay"
        ? { ...storedConfig(store.getRun(request.sourceRunId)), replayOf: request.sourceRunId, cache: false }
        : request.config,
    begin: (config) => {
      const run: RunRecord = {
        runId,
        kind: "benchmark",
        mode: config.mode,
        stage: request.kind === "new" ? request.stage : undefined,
        startTime: new Date().toISOString(),
        config,
        tags: ["benchmark_run", ...(request.kind === "replay" ? [`replay_of:${request.sourceRunId}`] : []), ...request.tags],
        status: "running",
      };
      store.createRun(run);
      return run;
    },
  };
}

function storedConfig(run: RunRecord): BenchmarkConfig {
  const parsed = parseStoredConfig(run.config);
  if (!parsed.success) {
    throw new KoderzError("bad_input", `run ${run.runId} was not started by \`koderz benchmark\` (its config does not fit)`, "resume or replay a benchmark run; `koderz results list --kind benchmark` lists them");
  }
  return parsed.data;
}

/** A run's tasks: its listed problems (in its range, when it has one), or every problem in its range. */
async function tasksFor(config: UnlistedConfig): Promise<Task[]> {
  const all = await loadConfiguredTasks(config);
  const inRange = config.problemRange ? selectRange(all, ...config.problemRange) : all;
  if (!config.problemIds) return inRange;
  const wanted = new Set(config.problemIds);
  const tasks = inRange.filter((task) => wanted.has(task.id));
  // Problems named without a range (`koderz run`) must all be there; a stored run's range says where.
  if (!config.problemRange) {
    const found = new Set(tasks.map((task) => task.id));
    const missing = config.problemIds.filter((id) => !found.has(id));
    if (missing.length > 0) {
      throw new KoderzError("not_found", `no problem ${missing.join(", ")} in ${config.datasetPath ?? config.suite}`, `problem ids look like ${all[0]?.id ?? "HumanEval/0"}`);
    }
  }
  return tasks;
}

/** The config with its problems listed: their ids, and where they stand when it named them. */
export async function listedConfig(config: UnlistedConfig): Promise<{ config: BenchmarkConfig; tasks: Task[] }> {
  const tasks = await tasksFor(config);
  const problemRange = config.problemRange ?? [Math.min(...tasks.map((task) => task.index)), Math.max(...tasks.map((task) => task.index)) + 1];
  return { config: { ...config, problemIds: tasks.map((task) => task.id), problemRange }, tasks };
}

/** The config, when its problems are listed already (a stored run's, a repository suite's). */
export function listedAlready(config: UnlistedConfig): BenchmarkConfig | undefined {
  return config.problemIds && config.problemRange ? { ...config, problemIds: config.problemIds, problemRange: config.problemRange } : undefined;
}

/** A config whose problems the command listed (repository suites always do). */
function listed(config: UnlistedConfig): BenchmarkConfig {
  const done = listedAlready(config);
  if (!done) throw new KoderzError("internal", "a repository suite run lists its instances when it starts");
  return done;
}

/** The pipeline modes whose agents a run may call: auto may pick any mode, so any of their agents. */
function modesCalledBy(mode: BenchmarkConfig["mode"]): PipelineMode[] {
  return mode === "auto" ? [...MODES] : armsFor(mode).flatMap((arm) => (arm.mode === "auto" ? [] : [arm.mode]));
}

function autoSummary(auto: OpenedAutoPilot, experiments: readonly ExperimentRecord[]): AutoSummary {
  return {
    modes: chosenModeCounts(experiments),
    policyPath: auto.loadedFrom,
    learning: auto.learning && { updates: auto.learning.updates(), savedTo: auto.learning.savePath },
  };
}
