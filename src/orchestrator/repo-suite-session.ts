import path from "node:path";
import pLimit from "p-limit";
import { sweSuitePublicTasks } from "../../tasks/swe-suite.js";
import type { PublicTask } from "../../tasks/task.js";
import { writeFileAtomically } from "../output-file.js";
import type { ModelConfig } from "../llm/index.js";
import { writeRunSummary, type RunRecord, type Store } from "../store/index.js";
import { parseStoredConfig, type BenchmarkConfig } from "./benchmark-config.js";
import type { BenchmarkProgress } from "./benchmark-runner.js";
import { prepareSuite, solveModeOf, solveSuiteInstance, type FinishedWork } from "./repo-suite-instance.js";

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
  // The same checks as any benchmark, before the run is written.
  const { backends, instances } = await prepareSuite(config, deps.modelConfig);

  const run = planned.begin(config);
  const done = deps.store.completedProblems(run.runId, mode);
  const pending = [...instances.values()].filter((instance) => !done.has(instance.task.id));
  const skipped = instances.size - pending.length;
  deps.onStart?.(run, [...instances.values()].map((instance) => instance.task), { total: instances.size, skipped });

  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const limit = pLimit(Math.max(1, config.concurrency));
  let completed = 0;
  let firstError: unknown;
  await Promise.all(
    pending.map((instance) =>
      limit(async () => {
        if (signal.aborted) return;
        try {
          const finished = await solveSuiteInstance(config, run.runId, instance, { ...deps, backends, signal });
          completed += 1;
          deps.onFinished?.(finished);
        } catch (error) {
          if (signal.aborted) return;
          firstError ??= error;
          stop.abort();
        }
      }),
    ),
  );
  const progress: BenchmarkProgress = { total: instances.size, skipped, completed };
  const status = firstError !== undefined ? "failed" : deps.signal?.aborted ? "interrupted" : "finished";
  deps.store.finishRun(run.runId, status);
  const summaryPath = writeRunSummary(deps.store, run.runId, deps.resultsDir);
  deps.log(`predictions for the SWE-bench harness: ${writePredictions(deps.store, run.runId, deps.resultsDir)}`);
  if (status === "failed") {
    deps.log(`run ${run.runId} stopped; what finished is saved. Continue it with: koderz benchmark --resume ${run.runId}`);
    throw firstError;
  }
  if (status === "interrupted") deps.log(`interrupted; what finished is saved. Continue with: koderz benchmark --resume ${run.runId}`);
  return { run: deps.store.getRun(run.runId), progress, summaryPath, status };
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
export function writePredictions(store: Store, runId: string, resultsDir: string): string {
  const config = parseStoredConfig(store.getRun(runId).config).data;
  const model = `koderz-${config?.mode}-${config?.localModel}`;
  const lines = store.experiments(runId).map((e) => JSON.stringify({ instance_id: e.problemId, model_name_or_path: model, model_patch: e.finalCode ?? "" }));
  const file = path.join(resultsDir, `${runId}.predictions.jsonl`);
  writeFileAtomically(file, lines.map((line) => `${line}\n`).join(""));
  return file;
}
