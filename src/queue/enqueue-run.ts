import { listedAlready, listedConfig, planRun, type SessionRequest } from "../orchestrator/benchmark-session.js";
import { armsFor } from "../orchestrator/benchmark-runner.js";
import { suiteInstances } from "../orchestrator/repo-suite-instance.js";
import { finishRunIfComplete, PgStore, type RunRecord, type Store } from "../store/index.js";
import { enqueueJobs, heldPairs, jobIdFor, openQueue, queuedIds, type ExperimentJob } from "./experiment-queue.js";
import { pairsOfConfig } from "./job-check.js";
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
    const failedBefore = new Map((await engine.clearJobFailures(run.runId)).map((f) => [pairKey(f), f.failedAt]));
    // Pairs a live job (waiting, running or about to be recorded as failed) still names: those
    // stay as they are. Any other pair with no outcome gets a job, whatever became of its old one
    // (failed, completed without a verdict, cancelled, edited to name something else).
    const held = await heldPairs(boss, run.runId);
    const jobs: Array<{ job: ExperimentJob; round?: string }> = [];
    let done = 0;
    let waiting = 0;
    for (const { arm } of armsFor(config.mode)) {
      const completed = deps.store.completedProblems(run.runId, arm);
      for (const problemId of config.problemIds) {
        const job = { runId: run.runId, arm, problemId };
        if (completed.has(problemId)) done += 1;
        else if (held.has(pairKey(job))) waiting += 1;
        else jobs.push({ job, round: failedBefore.get(pairKey(job)) });
      }
    }
    // A job id already used by a dead job would be ignored by pg-boss: those pairs start a new round.
    const used = new Set(await queuedIds(boss, jobs.map(({ job, round }) => jobIdFor(job, round))));
    const round = `resumed ${new Date().toISOString()}`;
    const fresh = jobs.map((entry) => (used.has(jobIdFor(entry.job, entry.round)) ? { job: entry.job, round } : entry));
    const queued = await enqueueJobs(boss, fresh, deps.leaseSeconds);
    // Nothing missing (a finished run queued again): it ends now, as a worker's last commit would end it.
    if (jobs.length === 0 && waiting === 0) await engine.transaction((client) => finishRunIfComplete(client, run.runId, pairsOfConfig(config)));
    return { run, queued, done, total: done + waiting + jobs.length };
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true }).catch(() => undefined);
    await engine.close();
  }
}

function pairKey(pair: { arm: string; problemId: string }): string {
  return `${pair.arm}\u0000${pair.problemId}`;
}
