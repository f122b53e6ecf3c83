import type { Sandbox } from "../../sandbox/sandbox.js";
import { KoderzError } from "../errors.js";
import { withCallLog } from "../llm/index.js";
import { backendsByAgent } from "../orchestrator/model-backends.js";
import { runBenchmark } from "../orchestrator/benchmark-runner.js";
import type { ExperimentRecord, StepRecord, Store } from "../store/index.js";
import type { ExperimentJob } from "./experiment-queue.js";
import type { RunContext } from "./run-context.js";

export type JobResult =
  | { kind: "done"; experiment: ExperimentRecord; steps: StepRecord[] }
  /** The store already had this problem's verdict (an earlier attempt committed it): nothing to write. */
  | { kind: "already-done" }
  /** Stopped by the signal before it finished: nothing to write, the job goes back to the queue. */
  | { kind: "interrupted" };

/**
 * Runs one queued problem exactly as a local run runs it (the same runner, pipelines, call log
 * and sandbox), except that the finished experiment is handed back instead of written: the
 * worker commits it together with its job's completion.
 */
export async function runQueuedExperiment(
  job: ExperimentJob,
  context: RunContext,
  deps: { store: Store; sandbox: Sandbox; signal: AbortSignal },
): Promise<JobResult> {
  const task = context.tasks.get(job.problemId);
  const arm = context.arms.get(job.arm);
  if (!task || !arm) {
    throw new KoderzError("bad_input", `job ${job.runId} ${job.arm} ${job.problemId} names no problem or arm of its run`, "re-queue the run with `koderz benchmark --queue URL --resume RUN_ID`");
  }
  const { config } = context;
  const captured: Array<{ experiment: ExperimentRecord; steps: StepRecord[] }> = [];
  // The runner reads the store as usual (what is done) but its one write is captured.
  const capturing = new Proxy(deps.store, {
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
