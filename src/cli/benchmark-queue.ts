import { DEFAULT_LEASE_SECONDS } from "../queue/experiment-queue.js";
import { enqueueRun } from "../queue/enqueue-run.js";
import type { SessionRequest } from "../orchestrator/benchmark-session.js";
import { writePredictions } from "../orchestrator/repo-suite-session.js";
import { openStore, writeRunSummary, type ArmTotals, type Store } from "../store/index.js";

export interface QueueFlags {
  queue: string;
  db?: string;
  follow: boolean;
  leaseSeconds?: number;
  resultsDir: string;
  json: boolean;
}

/**
 * `koderz benchmark ... --queue postgres://...`: queues the run's problems for `koderz worker`
 * processes and prints the run id on stdout; with --follow, waits for the workers, shows
 * progress, then writes the summary and prints the table as a local run does.
 */
export async function runQueuedBenchmarkCommand(
  request: SessionRequest,
  flags: QueueFlags,
  render: (runId: string, arms: ArmTotals[]) => string,
): Promise<void> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const store = openStore({ path: flags.queue });
  try {
    const { run, queued, done, total } = await enqueueRun(request, { store, url: flags.queue, leaseSeconds: flags.leaseSeconds ?? DEFAULT_LEASE_SECONDS });
    // Jobs of an earlier enqueue that no worker took yet stay in the queue: they are to do, not queued again.
    const waiting = total - done - queued;
    const toDo = `${queued} queued${waiting ? `, ${waiting} still in the queue` : ""}`;
    log(`run ${run.runId}: ${run.mode}, ${total} experiment${total === 1 ? "" : "s"} (${done} already done, ${toDo}); start workers with: koderz worker --queue URL`);
    if (!flags.follow) {
      process.stdout.write(`${run.runId}\n`);
      return;
    }
    const status = await follow(store, run.runId, total, log);
    const summaryPath = writeRunSummary(store, run.runId, flags.resultsDir);
    log(`summary: ${summaryPath}`);
    if (run.config.reposDir !== undefined) log(`predictions for the SWE-bench harness: ${writePredictions(store, run.runId, flags.resultsDir)}`);
    const failures = store.jobFailures(run.runId);
    for (const failure of failures) log(failure.attempts ? `failed: ${failure.problemId} (${failure.arm}) after ${failure.attempts} attempts: ${failure.error}` : `rejected: ${failure.error}`);
    if (flags.json) process.stdout.write(JSON.stringify(JSON.parse(await readText(summaryPath)), null, 2) + "\n");
    else process.stdout.write(render(run.runId, store.armTotals(run.runId)));
    if (status !== "finished") process.exitCode = 1;
  } finally {
    store.close();
  }
}

/** Waits until the workers have settled every experiment of the run, with a progress line on each change. */
async function follow(store: Store, runId: string, total: number, log: (message: string) => void): Promise<string> {
  let last = "";
  for (;;) {
    const run = store.getRun(runId);
    const arms = store.armTotals(runId);
    const settled = arms.reduce((n, a) => n + a.experiments, 0);
    // Rejected jobs (0 attempts) named no problem of the run: they are no outcome.
    const failed = store.jobFailures(runId).filter((f) => f.attempts > 0).length;
    const solved = arms.reduce((n, a) => n + a.successes, 0);
    const line = `${settled + failed}/${total} done, success ${settled ? ((100 * solved) / settled).toFixed(1) : "-"}%${failed ? `, ${failed} failed` : ""}`;
    if (line !== last) log(line);
    last = line;
    if (run.status !== "running") return run.status;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function readText(file: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(file, "utf8");
}
