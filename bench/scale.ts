/**
 * npm run bench:scale — the same 40-problem zero-shot run through the queue with 1, 2 and 4
 * `koderz worker` processes, against the scripted model server answering every call after a
 * realistic latency (2 s by default), on a throwaway PostgreSQL cluster with fsync on. Prints
 * figures; asserts nothing. The model server is a test fixture: its answers are canonical
 * solutions, so the figures measure koderz's queue, never a model.
 *
 * Workers are started first and wait for work, as they do on a team's machines; then the run is
 * queued. Their start-up is printed on its own and is not part of the run's wall time.
 *   start-up s    from starting the workers until the last of them takes jobs
 *   wall s        from the run's first job queued to its last commit (database clock)
 *   throughput    experiments per minute
 *   efficiency    (wall with 1 worker / wall with N) / N; target >= 0.8 at 4 workers
 *   overhead/job  wall x workers / jobs - the model latency: what the run context, the
 *                 sandbox, the store and the queue add to each job
 * Then the queue's own cost per job, alone: taking a job and committing an experiment with
 * the job's completion in one transaction, the worker's code, 200 jobs (target < 20 ms).
 * Options: --problems N (40), --latency-ms MS (2000), --workers 1,2,4, --sandbox docker|process (process).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import pg from "pg";
import { EXPERIMENT_QUEUE, enqueueJobs, openQueue } from "../src/queue/experiment-queue.js";
import { commitJob } from "../src/queue/queue-worker.js";
import { openStore, PgStore } from "../src/store/index.js";
import { loadSuite } from "../tasks/load.js";
import { startScriptedModelServer } from "../tests/fixtures/scripted-model-server.js";
import { startTestPostgres } from "../tests/helpers/postgres.js";

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ""), process.argv[i + 1] ?? "");
const problems = Number(args.get("problems") ?? 40);
const latencyMs = Number(args.get("latency-ms") ?? 2000);
const workerCounts = (args.get("workers") ?? "1,2,4").split(",").map(Number);
const sandbox = args.get("sandbox") ?? "process";
const say = (line = ""): void => void process.stdout.write(line + "\n");

const repoRoot = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../" : "../", import.meta.url));
const koderzBin = path.join(repoRoot, "dist", "src", "cli", "main.js");
const dataDir = process.env.KODERZ_DATA_DIR ?? path.resolve(repoRoot, "..", "shared", "datasets");
const tasks = (await loadSuite({ suite: "humaneval", dataset: path.join(dataDir, "HumanEval.jsonl.gz") })).slice(0, problems);

const server = await startScriptedModelServer({
  script: (chat) => {
    const task = tasks.find((t) => chat.prompt.includes(`def ${t.entryPoint}(`));
    return { text: "```python\n" + (task ? task.prompt + task.canonicalSolution : "pass") + "\n```", delayMs: latencyMs };
  },
});
const postgres = await startTestPostgres({ durable: true });
const workDir = mkdtempSync(path.join(tmpdir(), "koderz-bench-scale-"));
const model = `openai-compatible:scripted@${server.openaiBaseUrl}`;
const env = { ...process.env, KODERZ_DATA_DIR: dataDir };
const queueRun = async (url: string, count: number): Promise<string> =>
  (await execa("node", [koderzBin, "benchmark", "0", String(count), "--mode", "zero-shot", "--local-model", model, "--sandbox", sandbox, "--queue", url], { cwd: workDir, env })).stdout.trim();

try {
  say(`bench:scale: ${problems} problems, zero-shot, one model call each at ${latencyMs} ms, sandbox ${sandbox}`);
  say("workers  start-up s  wall s  experiments/min  efficiency  overhead/job ms");
  let baseline: number | undefined;
  for (const [index, count] of workerCounts.entries()) {
    const url = await postgres.createDatabase(`scale_${index}`);
    const started = Date.now();
    const workers = Array.from({ length: count }, () => startWorker(url));
    await Promise.all(workers.map((worker) => worker.ready));
    const startUp = (Date.now() - started) / 1000;
    const runId = await queueRun(url, problems);
    await waitForEnd(url, runId);
    for (const worker of workers) worker.process.kill("SIGTERM");
    await Promise.all(workers.map((worker) => worker.process.catch(() => undefined)));
    const { wall, committed } = await runWall(url, runId);
    if (committed !== problems) say(`  (only ${committed} of ${problems} committed)`);
    baseline ??= wall;
    const efficiency = baseline / wall / count;
    const overhead = ((wall * count) / problems) * 1000 - latencyMs;
    say(`${String(count).padStart(7)}  ${startUp.toFixed(1).padStart(10)}  ${wall.toFixed(1).padStart(6)}  ${((60 * problems) / wall).toFixed(1).padStart(15)}  ${efficiency.toFixed(2).padStart(10)}  ${overhead.toFixed(0).padStart(15)}`);
  }
  const perJob = await queueRoundTrips(await postgres.createDatabase("scale_queue"), 200);
  say(`queue per job (take + commit with completion, ${perJob.length} jobs): mean ${mean(perJob).toFixed(1)} ms, p95 ${percentile(perJob, 0.95).toFixed(1)} ms (target < 20 ms)`);
} finally {
  await server.close();
  await postgres.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** A `koderz worker` process; `ready` resolves when it says it takes jobs. */
function startWorker(url: string): { process: ResultPromise; ready: Promise<void> } {
  const child = execa("node", [koderzBin, "worker", "--queue", url, "--concurrency", "1", "--sandbox", sandbox], { cwd: workDir, env });
  const ready = new Promise<void>((resolve, reject) => {
    let said = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes("taking jobs")) resolve();
    });
    child.catch((error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
  });
  return { process: child, ready };
}

async function waitForEnd(url: string, runId: string): Promise<void> {
  const store = openStore({ path: url });
  try {
    while (!store.getRun(runId).endTime) await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    store.close();
  }
}

/** Seconds from the run's first job queued to its last completion, on the database's clock. */
async function runWall(url: string, runId: string): Promise<{ wall: number; committed: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ wall: number; committed: string }>(
      `SELECT EXTRACT(EPOCH FROM MAX(completed_on) - MIN(created_on))::float8 AS wall, COUNT(completed_on) AS committed
       FROM pgboss.job WHERE name = $1 AND data->>'runId' = $2`,
      [EXPERIMENT_QUEUE, runId],
    );
    return { wall: result.rows[0]!.wall, committed: Number(result.rows[0]!.committed) };
  } finally {
    await client.end();
  }
}

/** Milliseconds per job for taking it and committing a small experiment with its completion, as a worker does. */
async function queueRoundTrips(url: string, count: number): Promise<number[]> {
  const runId = await queueRun(url, 1); // a real run for the experiments to belong to
  const boss = await openQueue(url);
  const engine = await PgStore.open(url);
  try {
    const jobs = Array.from({ length: count }, (_, i) => ({ job: { runId, arm: "zero-shot", problemId: `bench/${i}` }, round: "round-trip" }));
    await enqueueJobs(boss, jobs, 60);
    const times: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const startedAt = performance.now();
      const [job] = await boss.fetch<{ problemId: string }>(EXPERIMENT_QUEUE, { batchSize: 1 });
      if (!job) break;
      if (job.data.problemId === tasks[0]!.id) continue; // the run's own job
      const experimentId = `${runId}:${job.data.problemId}`;
      await commitJob(boss, engine, { jobId: job.id, runId, arm: "zero-shot", problemId: job.data.problemId, attempt: 1, pairs: { arms: ["zero-shot"], problemIds: jobs.map(({ job: j }) => j.problemId) } }, {
        experiment: { experimentId, runId, problemId: job.data.problemId, arm: "zero-shot", success: true, iterations: 1, inputTokens: 100, outputTokens: 50, costUsd: 0.001, wallSeconds: 2, finalCode: "def f():\n    return 1\n", verdict: "passed", tags: [] },
        steps: [{ experimentId, index: 0, agent: "Coder", action: "write", model: "scripted", prompt: "p", response: "r", inputTokens: 100, outputTokens: 50, costUsd: 0.001, latencyMs: 2000 }],
      });
      times.push(performance.now() - startedAt);
    }
    return times;
  } finally {
    await boss.stop({ graceful: false, wait: true, close: true });
    await engine.close();
  }
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
