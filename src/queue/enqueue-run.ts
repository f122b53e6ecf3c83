import { listedAlready, listedConfig, planRun, type SessionRequest } from "../orchestrator/benchmark-session.js";
import { armsFor } from "../orchestrator/benchmark-runner.js";
import { suiteInstances } from "../orchestrator/repo-suite-instance.js";
import { finishRunIfComplete, PgStore, type RunRecord, type Store } from "../store/index.js";
import { enqueueJobs, openQueue, type ExperimentJob } from "./experiment-queue.js";
import { checkQueueable } from "./run-context.js";

export interface EnqueuedRun {
  run: RunRecord;
  /** Jobs added to the queue now. */
  queued: number;
  /** (arm, problem) pairs the store already has a verdict for. */
  done: number;
  total: number;
}

/**
 * `koderz benchmark --queue URL`: writes the run (new, resumed or a replay) to the shared store
 * and queues one job per (arm, problem) it has no verdict for yet; workers do the rest. Queueing
 * again adds only what is missing, and problems that failed on every attempt are queued afresh.
 */
export async function enqueueRun(request: SessionRequest, deps: { store: Store; url: string; leaseSeconds: number }): Promise<EnqueuedRun> {
  const planned = planRun(request, deps.store);
  // Checked before the run is written, as a local run checks its input.
  checkQueueable(planned.config);
  // A stored run keeps the problems it listed; a new one lists them now.
  const config = listedAlready(planned.config) ?? (await listedConfig(planned.config)).config;
  // A repository suite's clones are read by the workers at the same path: there must be one for each instance.
  if (config.reposDir !== undefined) await suiteInstances(config);
  const run = planned.begin(config);
  const engine = await PgStore.open(deps.url);
  const boss = await openQueue(deps.url);
  try {
    const failedBefore = new Map((await engine.clearJobFailures(run.runId)).map((f) => [`${f.arm}\u0000${f.problemId}`, f.failedAt]));
    const jobs: Array<{ job: ExperimentJob; round?: string }> = [];
    let done = 0;
    for (const { arm } of armsFor(config.mode)) {
      const completed = deps.store.completedProblems(run.runId, arm);
      for (const problemId of config.problemIds) {
        if (completed.has(problemId)) done += 1;
        else jobs.push({ job: { runId: run.runId, arm, problemId }, round: failedBefore.get(`${arm}\u0000${problemId}`) });
      }
    }
    const queued = await enqueueJobs(boss, jobs, deps.leaseSeconds);
    // Nothing missing (a finished run queued again): it ends now, as a worker's last commit would end it.
    if (jobs.length === 0) await engine.transaction((client) => finishRunIfComplete(client, run.runId, done));
    return { run, queued, done, total: done + jobs.length };
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    await engine.close();
  }
}
