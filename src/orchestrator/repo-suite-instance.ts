import path from "node:path";
import { connectEngine } from "../../sandbox/engine.js";
import { requireImage } from "../../sandbox/workspace.js";
import { WORKSPACE_IMAGE } from "../../sandbox/workspace-image.js";
import type { RepoTask } from "../../tasks/repo-task.js";
import { readSweSuite, sweSuiteTasks } from "../../tasks/swe-suite.js";
import { KoderzError } from "../errors.js";
import type { ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import { experimentIdFor, type Store } from "../store/index.js";
import { connectModels } from "./model-backends.js";
import type { BenchmarkConfig } from "./benchmark-config.js";
import type { FinishedExperiment } from "./benchmark-runner.js";
import type { ExperimentOutcome } from "./experiment.js";
import { runSolveSession, type SolveRequest } from "./solve/solve-session.js";
import { SOLVE_MODES, type SolveMode } from "./solve/solve-pipeline.js";

/** As `koderz solve`'s defaults: tool calls per instance and the time limit of one test run. */
const MAX_TOOL_CALLS = 100;
const TEST_TIMEOUT_SECONDS = 300;

/** One instance of a repository suite: its task on its clone, and its repository (OWNER/NAME, the experiment's category). */
export interface SuiteInstance {
  task: RepoTask;
  repository: string;
}

/** What a finished experiment tells the caller: a function task's or a repository suite's instance's. */
export type FinishedWork = Pick<FinishedExperiment, "experimentId" | "arm"> & { outcome: Pick<ExperimentOutcome, "success" | "inputTokens" | "outputTokens" | "costUsd"> };

export interface InstanceDeps {
  /** Where the experiment is recorded (a queue worker's captures it, to commit with its job). */
  store: Store;
  /** The run's models, connected and checked once for all its instances (prepareSuite). */
  backends: ReadonlyMap<string, ModelBackend>;
  resultsDir: string;
  log(message: string): void;
  signal?: AbortSignal;
}

export function solveModeOf(mode: BenchmarkConfig["mode"]): SolveMode {
  const solveMode = SOLVE_MODES.find((m) => m === mode);
  if (!solveMode) throw new KoderzError("usage", `--mode ${mode} is for function suites; SWE-bench instances are solved in koderz solve's modes`, `pass --mode ${SOLVE_MODES.join(", ")} (default standard)`);
  return solveMode;
}

/** The run's instances by id, on their clones; an instance the file no longer holds, or a missing clone, is an error. */
export async function suiteInstances(config: BenchmarkConfig): Promise<Map<string, SuiteInstance>> {
  if (!config.suiteSource || !config.reposDir) throw new KoderzError("internal", "a repository suite run needs its instances file and --repos folder in its config");
  const suite = await readSweSuite(config.suiteSource);
  const byId = new Map(suite.instances.map((instance) => [instance.instance_id, instance]));
  const gone = config.problemIds.filter((id) => !byId.has(id));
  if (gone.length) throw new KoderzError("not_found", `${suite.file} no longer holds instance ${gone.slice(0, 3).join(", ")}${gone.length > 3 ? ", ..." : ""} of this run`, "restore the instances file the run was started with");
  const instances = config.problemIds.map((id) => byId.get(id)!);
  const tasks = await sweSuiteTasks(instances, config.reposDir);
  return new Map(tasks.map((task, i) => [task.id, { task, repository: instances[i]!.repo }]));
}

/**
 * What a repository suite run checks before its first instance, on this machine or on a queue
 * worker: its models answer (none is asked for a replay, which answers from the replayed run's
 * log), its instances and their clones are there, and so is every image they are solved in.
 */
export async function prepareSuite(config: BenchmarkConfig, modelConfig: ModelConfig | undefined): Promise<{ backends: Map<string, ModelBackend>; instances: Map<string, SuiteInstance> }> {
  const backends = await connectModels(config, { modelConfig, preflightModes: config.replayOf ? [] : [solveModeOf(config.mode)] });
  const instances = await suiteInstances(config);
  const docker = connectEngine();
  for (const image of new Set([...instances.values()].map((instance) => imageOf(config, instance)))) await requireImage(docker, image);
  return { backends, instances };
}

/** The workspace image an instance is solved in: its repository's --image-for, else koderz-workspace. */
function imageOf(config: BenchmarkConfig, instance: SuiteInstance): string {
  return config.images?.[instance.repository] ?? WORKSPACE_IMAGE;
}

/**
 * Solves and grades one instance with `koderz solve`'s own session and records it as an
 * experiment of the run. An instance that cannot be worked on here (its tests do not run in the
 * image, its test patch does not apply) is recorded as unresolved, as the SWE-bench harness
 * counts an error; any other error (the models, Docker, the machine) is thrown.
 */
export async function solveSuiteInstance(config: BenchmarkConfig, runId: string, instance: SuiteInstance, deps: InstanceDeps): Promise<FinishedWork> {
  const { task, repository } = instance;
  const mode = solveModeOf(config.mode);
  const experimentId = experimentIdFor(runId, mode, task.id);
  const started = performance.now();
  const log = (message: string) => deps.log(`[${task.id}] ${message}`);
  const experiment = { suite: config.suite, category: repository, tags: ["benchmark_run", `mode:${mode}`, `repo:${repository}`] };
  try {
    const report = await runSolveSession(solveRequest(config, instance, mode), {
      store: deps.store,
      backends: deps.backends,
      // Each instance's patch and report beside the run's summary: results/<run_id>/<instance_id>/.
      resultsDir: path.join(deps.resultsDir, runId, safeName(task.id)),
      log,
      signal: deps.signal,
      benchmarkRun: { runId, experiment },
    });
    return { experimentId, arm: mode, outcome: report };
  } catch (error) {
    if (deps.signal?.aborted || !isInstanceError(error)) throw error;
    log(`error: ${error.message}`);
    const wallSeconds = (performance.now() - started) / 1000;
    deps.store.recordExperiment(
      { experimentId, runId, problemId: task.id, arm: mode, success: false, iterations: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, wallSeconds, verdict: `error: ${error.message}`, ...experiment, tags: [...experiment.tags, "error"] },
      [],
    );
    return { experimentId, arm: mode, outcome: { success: false, inputTokens: 0, outputTokens: 0, costUsd: 0 } };
  }
}

/** As `koderz solve --swe-instance` would be asked, with the run's models (already connected), budget and image. */
function solveRequest(config: BenchmarkConfig, instance: SuiteInstance, mode: SolveMode): SolveRequest {
  return {
    task: instance.task,
    mode,
    models: { localModel: config.localModel, frontierModel: config.frontierModel, modelFor: config.modelFor },
    image: imageOf(config, instance),
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
