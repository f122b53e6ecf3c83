import path from "node:path";
import pLimit from "p-limit";
import { connectEngine } from "../../sandbox/engine.js";
import { requireImage } from "../../sandbox/workspace.js";
import { WORKSPACE_IMAGE } from "../../sandbox/workspace-image.js";
import type { RepoTask } from "../../tasks/repo-task.js";
import { readSweSuite, sweSuitePublicTasks, sweSuiteTasks } from "../../tasks/swe-suite.js";
import type { PublicTask } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { writeFileAtomically } from "../output-file.js";
import type { ModelConfig } from "../llm/index.js";
import { experimentIdFor, writeRunSummary, type RunRecord, type Store } from "../store/index.js";
import { parseStoredConfig, type BenchmarkConfig } from "./benchmark-config.js";
import type { BenchmarkProgress, FinishedExperiment } from "./benchmark-runner.js";
import type { ExperimentOutcome } from "./experiment.js";
import { connectModels } from "./model-backends.js";
import { runSolveSession, type SolveRequest } from "./solve/solve-session.js";
import { SOLVE_MODES, type SolveMode } from "./solve/solve-pipeline.js";

/** As `koderz solve`'s defaults: tool calls per instance and the time limit of one test run. */
const MAX_TOOL_CALLS = 100;
const TEST_TIMEOUT_SECONDS = 300;

/** What a finished experiment tells the caller: a function task's or a repository suite's instance's. */
export type FinishedWork = Pick<FinishedExperiment, "experimentId" | "arm"> & { outcome: Pick<ExperimentOutcome, "success" | "inputTokens" | "outputTokens" | "costUsd"> };

/** What the benchmark session hands over (see benchmark-session.ts, whose SessionDeps this is a part of). */
export interface RepoSuiteDeps {
  store: Store;
  modelConfig?: ModelConfig;
  resultsDir: string;
  log(message: string): void;
  onStart?(run: RunRecord, tasks: readonly { id: string }[], progress: { total: number; skipped: number }): void;
  onFinished?(finished: FinishedWork): void;
  signal?: AbortSignal;
}

export interface RepoSuiteResult {
  run: RunRecord;
  progress: BenchmarkProgress;
  summaryPath: string;
  status: "finished" | "interrupted";
}

/**
 * A benchmark run over a repository suite (SWE-bench instances, `--suite FILE --repos DIR`):
 * each instance is solved and graded by `koderz solve`'s own session, in its own workspace
 * container, and recorded as one experiment of this run, so results, compare, report and replay
 * read it as any run. Finished instances are in the store; a killed run resumes with what is left.
 * A --replay of such a run solves every instance again with each model call answered from the
 * replayed run's log: the same patches and grades, no model asked.
 */
export async function runRepoSuiteSession(planned: { config: BenchmarkConfig; begin(config: BenchmarkConfig): RunRecord }, deps: RepoSuiteDeps): Promise<RepoSuiteResult> {
  const { config } = planned;
  const mode = solveModeOf(config.mode);
  // The same checks as any benchmark, before the run is written: models (none for a replay,
  // which answers from the replayed run's log), then the suite, then Docker.
  await connectModels(config, { modelConfig: deps.modelConfig, preflightModes: config.replayOf ? [] : [mode] });
  const { tasks, repositories } = await suiteTasks(config);
  await requireImage(connectEngine(), WORKSPACE_IMAGE);

  const run = planned.begin(config);
  const done = deps.store.completedProblems(run.runId, mode);
  const pending = tasks.filter((task) => !done.has(task.id));
  const skipped = tasks.length - pending.length;
  deps.onStart?.(run, tasks, { total: tasks.length, skipped });

  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const limit = pLimit(Math.max(1, config.concurrency));
  let completed = 0;
  let firstError: unknown;
  await Promise.all(
    pending.map((task) =>
      limit(async () => {
        if (signal.aborted) return;
        const experimentId = experimentIdFor(run.runId, mode, task.id);
        const started = performance.now();
        const log = (message: string) => deps.log(`[${task.id}] ${message}`);
        const repository = repositories.get(task.id)!;
        const experiment = { suite: config.suite, category: repository, tags: ["benchmark_run", `mode:${mode}`, `repo:${repository}`] };
        try {
          const report = await runSolveSession(solveRequest(config, task, mode, deps), {
            store: deps.store,
            // Each instance's patch and report beside the run's summary: results/<run_id>/<instance_id>/.
            resultsDir: path.join(deps.resultsDir, run.runId, safeName(task.id)),
            log,
            signal,
            benchmarkRun: { runId: run.runId, experiment },
          });
          completed += 1;
          deps.onFinished?.({ experimentId, arm: mode, outcome: report });
        } catch (error) {
          if (signal.aborted) return;
          if (!isInstanceError(error)) {
            firstError ??= error;
            stop.abort();
            return;
          }
          // The instance cannot be worked on here (its tests do not run in the image, its test
          // patch does not apply): unresolved, as the SWE-bench harness counts an error, and the run goes on.
          log(`error: ${error.message}`);
          const outcome = { success: false, inputTokens: 0, outputTokens: 0, costUsd: 0 };
          recordInstanceError(deps.store, { experimentId, runId: run.runId, task, mode, message: error.message, wallSeconds: (performance.now() - started) / 1000, ...experiment });
          completed += 1;
          deps.onFinished?.({ experimentId, arm: mode, outcome });
        }
      }),
    ),
  );
  const progress: BenchmarkProgress = { total: tasks.length, skipped, completed };
  if (firstError !== undefined) {
    deps.store.finishRun(run.runId, "failed");
    writeRunSummary(deps.store, run.runId, deps.resultsDir);
    writePredictions(deps, run, config);
    deps.log(`run ${run.runId} stopped; what finished is saved. Continue it with: koderz benchmark --resume ${run.runId}`);
    throw firstError;
  }
  const status = deps.signal?.aborted ? "interrupted" : "finished";
  deps.store.finishRun(run.runId, status);
  const summaryPath = writeRunSummary(deps.store, run.runId, deps.resultsDir);
  writePredictions(deps, run, config);
  if (status === "interrupted") deps.log(`interrupted; what finished is saved. Continue with: koderz benchmark --resume ${run.runId}`);
  return { run: deps.store.getRun(run.runId), progress, summaryPath, status };
}

function solveModeOf(mode: BenchmarkConfig["mode"]): SolveMode {
  const solveMode = SOLVE_MODES.find((m) => m === mode);
  if (!solveMode) throw new KoderzError("usage", `--mode ${mode} is for function suites; SWE-bench instances are solved in koderz solve's modes`, `pass --mode ${SOLVE_MODES.join(", ")} (default standard)`);
  return solveMode;
}

/**
 * The run's instances on their clones, with each one's repository (OWNER/NAME, the experiment's
 * category); an instance the file no longer holds is an error.
 */
async function suiteTasks(config: BenchmarkConfig): Promise<{ tasks: RepoTask[]; repositories: Map<string, string> }> {
  if (!config.suiteSource || !config.reposDir) throw new KoderzError("internal", "a repository suite run needs its instances file and --repos folder in its config");
  const suite = await readSweSuite(config.suiteSource);
  const byId = new Map(suite.instances.map((instance) => [instance.instance_id, instance]));
  const gone = config.problemIds.filter((id) => !byId.has(id));
  if (gone.length) throw new KoderzError("not_found", `${suite.file} no longer holds instance ${gone.slice(0, 3).join(", ")}${gone.length > 3 ? ", ..." : ""} of this run`, "restore the instances file the run was started with");
  const instances = config.problemIds.map((id) => byId.get(id)!);
  return { tasks: await sweSuiteTasks(instances, config.reposDir), repositories: new Map(instances.map((i) => [i.instance_id, i.repo])) };
}

function solveRequest(config: BenchmarkConfig, task: RepoTask, mode: SolveMode, deps: RepoSuiteDeps): SolveRequest {
  return {
    task,
    mode,
    models: { localModel: config.localModel, frontierModel: config.frontierModel, modelFor: config.modelFor },
    modelConfig: deps.modelConfig,
    network: false,
    testTimeoutSeconds: TEST_TIMEOUT_SECONDS,
    budget: { ...config.budget, maxToolCalls: MAX_TOOL_CALLS },
    debugRounds: config.debugRounds,
    cache: config.cache,
    replayRunId: config.replayOf,
    tags: [],
  };
}

/** Errors about the instance itself, not about the models, Docker or the machine: those stop the run. */
function isInstanceError(error: unknown): error is KoderzError {
  return error instanceof KoderzError && error.code === "bad_input";
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, "_");
}

interface InstanceError {
  experimentId: string;
  runId: string;
  task: RepoTask;
  mode: SolveMode;
  message: string;
  wallSeconds: number;
  suite: string;
  category: string;
  tags: string[];
}

function recordInstanceError(store: Store, failure: InstanceError): void {
  store.recordExperiment(
    {
      experimentId: failure.experimentId,
      runId: failure.runId,
      problemId: failure.task.id,
      arm: failure.mode,
      success: false,
      iterations: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      wallSeconds: failure.wallSeconds,
      verdict: `error: ${failure.message}`,
      suite: failure.suite,
      category: failure.category,
      tags: [...failure.tags, "error"],
    },
    [],
  );
}

/** The instances of a stored run when it ran a repository suite (for train-meta's replay); none otherwise. */
export async function repositorySuiteTasksOf(storedConfig: unknown): Promise<PublicTask[]> {
  const config = parseStoredConfig(storedConfig).data;
  return config?.reposDir && config.suiteSource ? sweSuitePublicTasks(config.suiteSource) : [];
}

/**
 * results/<run_id>.predictions.jsonl: every stored instance's patch in the SWE-bench harness's
 * predictions format, so the official harness can grade the same patches in its own images.
 */
function writePredictions(deps: RepoSuiteDeps, run: RunRecord, config: BenchmarkConfig): void {
  const model = `koderz-${config.mode}-${config.localModel}`;
  const lines = deps.store.experiments(run.runId).map((e) => JSON.stringify({ instance_id: e.problemId, model_name_or_path: model, model_patch: e.finalCode ?? "" }));
  const file = path.join(deps.resultsDir, `${run.runId}.predictions.jsonl`);
  writeFileAtomically(file, lines.map((line) => `${line}\n`).join(""));
  deps.log(`predictions for the SWE-bench harness: ${file}`);
}
