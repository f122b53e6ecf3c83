import { Command } from "commander";


const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .option("--queue <url>", "the PostgreSQL database the run was queued in (postgres://...)")
    .option("--concurrency <n>", "jobs run at once", "1")
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--config <path>", "a koderz.config.json with this machine's model endpoints and keys")
    .option("--results-dir <dir>", "where repository suites' instances leave their patches and reports", "results")
    .option("--rate-limit <model=n>", "at most n calls a minute to this model from all workers together, e.g. kimi-k2=60 (repeatable; kept in the database)", collect)
    .option("--exit-when-idle", "stop once no job waits or runs (default: keep waiting for work)")
    .action(async (raw: unknown) => {
      // Loaded once commander has the flags: an unknown one loads no zod, engine or queue.
      await (await import("./worker-run.js")).runWorkerCommand(raw);
    });
}
