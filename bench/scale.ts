/**
 * npm run bench:scale — the same 40-problem zero-shot run through the queue with 1, 2 and 4
 * `koderz worker` processes, against the scripted model server answering every call after a
 * realistic latency (2 s by default), on a throwaway PostgreSQL cluster. Prints figures;
 * asserts nothing. The model server is a test fixture: its answers are canonical solutions,
 * so the figures measure koderz's queue, never a model.
 *   wall          from the first worker's start to the run's last commit
 *   throughput    experiments per minute
 *   efficiency    (wall with 1 worker / wall with N) / N; target >= 0.8 at 4 workers
 *   overhead      per job, wall x workers / jobs - the model latency: what worker start-up,
 *                 the sandbox, the store and the queue add to each job
 *   queue ms/job  per job, the time a worker held it beyond the experiment's own wall time:
 *                 taking the job, capturing and committing it with its completion (target < 20 ms)
 * Options: --problems N (40), --latency-ms MS (2000), --workers 1,2,4, --sandbox docker|process (process).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import pg from "pg";
import { openStore } from "../src/store/index.js";
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
const postgres = await startTestPostgres();
const workDir = mkdtempSync(path.join(tmpdir(), "koderz-bench-scale-"));
const model = `openai-compatible:scripted@${server.openaiBaseUrl}`;
const env = { ...process.env, KODERZ_DATA_DIR: dataDir };

try {
  say(`bench:scale: ${problems} problems, zero-shot, one model call each at ${latencyMs} ms, sandbox ${sandbox}`);
  say("workers  wall s  experiments/min  efficiency  overhead/job ms  queue ms/job");
  let baseline: number | undefined;
  for (const [index, count] of workerCounts.entries()) {
    const url = await postgres.createDatabase(`scale_${index}`);
    const queued = await execa("node", [koderzBin, "benchmark", "0", String(problems), "--mode", "zero-shot", "--local-model", model, "--sandbox", sandbox, "--queue", url], { cwd: workDir, env });
    const runId = queued.stdout.trim();
    const startedAt = Date.now();
    const workers = Array.from({ length: count }, () =>
      execa("node", [koderzBin, "worker", "--queue", url, "--concurrency", "1", "--sandbox", sandbox, "--exit-when-idle"], { cwd: workDir, env }),
    );
    await Promise.all(workers);
    const store = openStore({ path: url });
    const run = store.getRun(runId);
    const committed = store.experiments(runId).length;
    // Until the run's end time, its last commit: the workers' shutdown is not part of the work.
    const workWall = ((run.endTime ? Date.parse(run.endTime) : Date.now()) - startedAt) / 1000;
    store.close();
    const queueMs = await queueOverheadMs(url, runId);
    if (committed !== problems) say(`  (only ${committed} of ${problems} committed)`);
    baseline ??= workWall;
    const efficiency = baseline / workWall / count;
    const overhead = ((workWall * count) / problems) * 1000 - latencyMs;
    say(`${String(count).padStart(7)}  ${workWall.toFixed(1).padStart(6)}  ${((60 * problems) / workWall).toFixed(1).padStart(15)}  ${efficiency.toFixed(2).padStart(10)}  ${overhead.toFixed(0).padStart(15)}  ${queueMs.toFixed(1).padStart(12)}`);
  }
} finally {
  await server.close();
  await postgres.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** Mean of (job held: completed_on - started_on) - (experiment wall time), over the run's jobs. */
async function queueOverheadMs(url: string, runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ ms: number | null }>(
      `SELECT AVG(EXTRACT(EPOCH FROM (j.completed_on - j.started_on)) * 1000 - e.wall_seconds * 1000)::float8 AS ms
       FROM pgboss.job j JOIN experiments e ON e.run_id = j.data->>'runId' AND e.arm = j.data->>'arm' AND e.problem_id = j.data->>'problemId'
       WHERE j.name = 'koderz-experiment' AND j.state = 'completed' AND j.data->>'runId' = $1`,
      [runId],
    );
    return result.rows[0]?.ms ?? Number.NaN;
  } finally {
    await client.end();
  }
}
