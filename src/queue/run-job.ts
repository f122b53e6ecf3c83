import type { Sandbox } from "../../sandbox/sandbox.js";
import { KoderzError } from "../errors.js";
import { withCallLog } from "../llm/index.js";
import { backendsByAgent } from "../orchestrator/model-backends.js";
import { runBenchmark } from "../orchestrator/benchmark-runner.js";
import { solveSuiteInstance, type SuiteInstance } from "../orchestrator/repo-suite-instance.js";
import { experimentIdFor, type ExperimentRecord, type StepRecord, type Store } from "../store/index.js";
import type { ExperimentJob } from "./experiment-queue.js";
import type { RunContext } from "./run-context.js";

export type JobResult =
  | { kind: "done"; experiment: ExperimentRecord; steps: StepRecord[] }
  /** The store already had this problem's verdict (an earlier attempt committed it): nothing to write. */
  | { kind: "already-done" }
  /** Stopped by the signal before it finished: nothing to write, the job goes back to the queue. */
  | { kind: "interrupted" };

export interface JobDeps {
  store: Store;
  sandbox: Sandbox;
  /** Where a repository suite's instance leaves its patch and report (the patch is in the store too). */
  resultsDir: string;
  log(message: string): void;
  signal: AbortSignal;
}

/**
 * Runs one queued problem exactly as a local run runs it (the same runner, pipelines, call log
 * and sandbox), except that the finished experiment is handed back instead of written: the
 * worker commits it together with its job's completion.
 */
export async function runQueuedExperiment(job: ExperimentJob, context: RunContext, deps: JobDeps): Promise<JobResult> {
  if (context.instances) return runQueuedInstance(job, context, context.instances, deps);
  const task = context.tasks.get(job.problemId);
  const arm = context.arms.get(job.arm);
  if (!task || !arm) {
    throw new KoderzError("bad_input", `job ${job.runId} ${job.arm} ${job.problemId} names no problem or arm of its run`, "re-queue the run with `koderz benchmark --queue URL --resume RUN_ID`");
  }
  const { config } = context;
  const { store: capturing, captured } = capturingStore(deps.store);
  const progress = await runBenchmark({
    runId: job.runId,
    tasks: [task],
    arms: [arm],
    concurrency: 1,
    settings: config,
    budget: config.budget,
    store: capturing,
    sandbox: deps.sandbox,
    modelsFor: (experimentId) => {
      const callLog = deps.store.callLog({ runId: job.runId, experimentId, scope: config.replayOf ? "replay" : "cache", replayRunId: config.replayOf });
      const logMode = config.replayOf ? "replay" : config.cache ? "cache" : "record";
      return backendsByAgent(config, context.backends, (backend) => withCallLog(backend, callLog, logMode));
    },
    hiddenTimeoutSeconds: (t) => context.hiddenTimeoutSeconds(t),
    signal: deps.signal,
  });
  const [done] = captured;
  if (done) return { kind: "done", ...done };
  return progress.skipped === 1 ? { kind: "already-done" } : { kind: "interrupted" };
}

/** One queued instance of a repository suite, solved and graded as a local run of the suite does. */
async function runQueuedInstance(job: ExperimentJob, context: RunContext, instances: ReadonlyMap<string, SuiteInstance>, deps: JobDeps): Promise<JobResult> {
  const instance = instances.get(job.problemId);
  if (!instance || !context.arms.has(job.arm)) {
    throw new KoderzError("bad_input", `job ${job.runId} ${job.arm} ${job.problemId} names no instance or mode of its run`, "re-queue the run with `koderz benchmark --queue URL --resume RUN_ID`");
  }
  if (deps.store.getExperiment(experimentIdFor(job.runId, job.arm, job.problemId))) return { kind: "already-done" };
  const { store, captured } = capturingStore(deps.store);
  try {
    await solveSuiteInstance(context.config, job.runId, instance, { store, backends: context.backends, resultsDir: deps.resultsDir, log: deps.log, signal: deps.signal });
  } catch (error) {
    if (deps.signal.aborted) return { kind: "interrupted" };
    throw error;
  }
  const [done] = captured;
  if (!done) throw new KoderzError("internal", `${job.problemId} finished without recording its experiment`);
  return { kind: "done", ...done };
}

/** The store as a runner uses it (it reads what is done, writes its call log), except that its experiment is captured, not written. */
function capturingStore(store: Store): { store: Store; captured: Array<{ experiment: ExperimentRecord; steps: StepRecord[] }> } {
  const captured: Array<{ experiment: ExperimentRecord; steps: StepRecord[] }> = [];
  const capturing = new Proxy(store, {
    get(target, key) {
      if (key === "recordExperiment") {
        return (experiment: ExperimentRecord, steps: readonly StepRecord[]) => {
          captured.push({ experiment, steps: [...steps] });
          return true;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: capturing, captured };
}
