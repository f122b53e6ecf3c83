import { z } from "zod";
import { checkQueueUrl } from "./benchmark-flags.js";
import { parseOptions } from "./parse.js";

/** `koderz worker` once commander has its flags: their values, then the worker until it is stopped. */
export async function runWorkerCommand(raw: unknown): Promise<void> {
  const flags = parseOptions(WorkerOptions, raw);
  checkQueueUrl(flags.queue);
  // Loaded once the values are checked: a bad one loads no engine.
  const [{ openSandbox }, { loadModelConfig }, { parseRateLimit }, { runWorker }] = await Promise.all([
    import("../../sandbox/select.js"),
    import("../llm/index.js"),
    import("../queue/model-rate-limit.js"),
    import("../queue/queue-worker.js"),
  ]);
  const rateLimits = flags.rateLimit.map(parseRateLimit);
  const log = (message: string) => process.stderr.write(`${message}\n`);
  // First Ctrl-C (or SIGTERM): take no new job, finish and commit the running ones.
  // Second: stop those too and hand them back to the queue. Third: quit at once.
  const stopTaking = new AbortController();
  const stopRunning = new AbortController();
  const onSignal = () => {
    if (!stopTaking.signal.aborted) {
      log("stopping: finishing the running jobs (Ctrl-C again to hand them back to the queue now)");
      stopTaking.abort();
    } else if (!stopRunning.signal.aborted) {
      log("stopping: handing the running jobs back to the queue");
      stopRunning.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const stats = await runWorker({
      url: flags.queue,
      concurrency: flags.concurrency,
      openSandbox: () => openSandbox(flags.sandbox, { onNotice: log }),
      modelConfig: loadModelConfig({ path: flags.config }),
      resultsDir: flags.resultsDir,
      log,
      stopTaking: stopTaking.signal,
      stopRunning: stopRunning.signal,
      exitWhenIdle: flags.exitWhenIdle,
      rateLimits,
    });
    log(`worker ${process.pid}: ${stats.committed} committed, ${stats.failed} failed attempts, ${stats.released} handed back`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const WorkerOptions = z.object({
  queue: z.string({ error: "--queue is required: the PostgreSQL URL the run was queued in" }),
  concurrency: z.coerce.number().int("--concurrency must be a whole number").positive("--concurrency must be at least 1").default(1),
  sandbox: z.enum(["docker", "process"]).optional(),
  config: z.string().optional(),
  resultsDir: z.string().min(1).default("results"),
  exitWhenIdle: z.boolean().default(false),
  rateLimit: z.array(z.string()).default([]),
});
