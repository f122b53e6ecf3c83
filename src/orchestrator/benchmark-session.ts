import type { AgentRole } from "../../agents/agent.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { loadSuite, selectRange } from "../../tasks/load.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import { createBackend, withCallLog, type ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import { newRunId, writeRunSummary, type RunRecord, type Store } from "../store/index.js";
import { BenchmarkConfigSchema, type BenchmarkConfig } from "./benchmark-config.js";
import { armsFor, runBenchmark, type BenchmarkJob, type BenchmarkProgress, type FinishedExperiment } from "./benchmark-runner.js";
import { modelsUsedBy, roleModels } from "./roles.js";

export interface SessionDeps {
  store: Store;
  openSandbox(): Promise<Sandbox>;
  modelConfig?: ModelConfig;
  /** Where the summary JSON goes. */
  resultsDir: string;
  log(message: string): void;
  onStart?(run: RunRecord, tasks: Task[], progress: { total: number; skipped: number }): void;
  onFinished?(finished: FinishedExperiment): void;
  onStep?: BenchmarkJob["onStep"];
  signal?: AbortSignal;
}

export type SessionRequest =
  | { kind: "new"; config: BenchmarkConfig; tags: string[]; stage?: string }
  | { kind: "resume"; runId: string }
  | { kind: "replay"; sourceRunId: string; tags: string[] };

export interface SessionResult {
  run: RunRecord;
  progress: BenchmarkProgress;
  summaryPath: string;
  status: "finished" | "interrupted";
}

/**
 * A benchmark run from start to summary: find or create the run, load its tasks, check that its
 * models answer, run what is left, and write the summary JSON. A run stopped by Ctrl-C, an error
 * or a kill keeps every finished experiment and continues with `--resume RUN_ID`.
 */
export async function runBenchmarkSession(request: SessionRequest, deps: SessionDeps): Promise<SessionResult> {
  // Everything that can fail on bad input (config, dataset, models, sandbox) is checked before
  // the run is written, so a typo leaves no empty run behind.
  const planned = planRun(request, deps.store);
  const { config } = planned;
  const tasks = await tasksFor(config);
  const backends = await connectModels(config, deps);
  const sandbox = await deps.openSandbox();
  try {
    const timeLimits = config.suite === "humaneval+" ? await scaledTimeLimits(tasks, sandbox) : new Map<string, number>();
    const arms = armsFor(config.mode === "auto" ? unsupportedAuto() : config.mode);
    const run = planned.begin();
    const modelsFor = (experimentId: string): Record<AgentRole, ModelBackend> => {
      const callLog = deps.store.callLog({
        runId: run.runId,
        experimentId,
        scope: config.replayOf ? "replay" : "cache",
        replayRunId: config.replayOf,
      });
      const logMode = config.replayOf ? "replay" : config.cache ? "cache" : "record";
      const byRole = roleModels(config);
      return Object.fromEntries(
        Object.entries(byRole).map(([role, model]) => [role, withCallLog(backends.get(model)!, callLog, logMode)]),
      ) as Record<AgentRole, ModelBackend>;
    };
    const remaining = arms.reduce((n, arm) => n + tasks.length - deps.store.completedProblems(run.runId, arm.arm).size, 0);
    deps.onStart?.(run, tasks, { total: arms.length * tasks.length, skipped: arms.length * tasks.length - remaining });

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
        hiddenTimeoutSeconds: (task) => timeLimits.get(task.id) ?? DEFAULT_TIMEOUT_SECONDS,
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
    return { run: deps.store.getRun(run.runId), progress, summaryPath, status };
  } finally {
    await sandbox.close();
  }
}

interface PlannedRun {
  config: BenchmarkConfig;
  /** Writes the new run, or reopens the resumed one; returns its record. */
  begin(): RunRecord;
}

function planRun(request: SessionRequest, store: Store): PlannedRun {
  if (request.kind === "resume") {
    const run = store.getRun(request.runId);
    return {
      config: storedConfig(run),
      begin: () => {
        store.reopenRun(run.runId);
        return store.getRun(run.runId);
      },
    };
  }
  const config: BenchmarkConfig =
    request.kind === "replay"
      ? { ...storedConfig(store.getRun(request.sourceRunId)), replayOf: request.sourceRunId, cache: false }
      : request.config;
  return {
    config,
    begin: () => {
      const run: RunRecord = {
        runId: newRunId("bench"),
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
  const parsed = BenchmarkConfigSchema.safeParse(run.config);
  if (!parsed.success) {
    throw new KoderzError("bad_input", `run ${run.runId} was not started by \`koderz benchmark\` (its config does not fit)`, "resume or replay a benchmark run; `koderz results list --kind benchmark` lists them");
  }
  return parsed.data;
}

async function tasksFor(config: BenchmarkConfig): Promise<Task[]> {
  const all = await loadSuite({ suite: config.suite, dataset: config.datasetPath });
  const [start, end] = config.problemRange;
  const inRange = selectRange(all, start, end);
  const wanted = new Set(config.problemIds);
  return inRange.filter((task) => wanted.has(task.id));
}

/** One backend per distinct model (so a model's concurrency limit holds across roles), each checked once. */
async function connectModels(config: BenchmarkConfig, deps: SessionDeps): Promise<Map<string, ModelBackend>> {
  const backends = new Map<string, ModelBackend>();
  for (const model of new Set(Object.values(roleModels(config)))) {
    backends.set(model, createBackend(model, { config: deps.modelConfig }));
  }
  if (!config.replayOf) {
    const modes = armsFor(config.mode === "auto" ? unsupportedAuto() : config.mode).map((arm) => arm.mode);
    for (const model of modelsUsedBy(config, modes)) await backends.get(model)!.preflight();
  }
  return backends;
}

function unsupportedAuto(): never {
  throw new KoderzError("usage", "--mode auto needs a trained policy, which this build cannot load yet", "use one of zero-shot, iterative, comparative, fast, standard, deep");
}
