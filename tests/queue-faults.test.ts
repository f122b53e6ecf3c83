import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ResultPromise } from "execa";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { openStore } from "../src/store/index.js";
import { EXPERIMENT_QUEUE, FAILED_QUEUE, openQueue } from "../src/queue/experiment-queue.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz, spawnKoderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startTeamWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// Hostile and stray rows in a queued run's database (rows a person, an old koderz or a broken
// script could leave): the real `koderz benchmark --queue` and `koderz worker` binaries, pg-boss,
// a throwaway PostgreSQL cluster, the scripted model server (answers are fixtures) and the
// process sandbox. A run must end with one outcome per (arm, problem) of its own, and no row
// may keep a worker waiting or print itself whole in a log.
const PROBLEMS = 2;
const PAIRS = 2 * PROBLEMS; // comparative: zero-shot and iterative

let postgres: TestPostgres;
let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;
let databases = 0;
const children: Array<ResultPromise<{ reject: false }>> = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, PROBLEMS);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: new Set(), tempPrefix: "koderz-queue-faults-" }));
}, 120_000);

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await child;
  }
});

afterAll(async () => {
  await server?.close();
  await postgres?.stop();
});

async function queuedRun(): Promise<{ url: string; runId: string }> {
  databases += 1;
  const url = await postgres.createDatabase(`faults_${databases}`);
  const result = await koderz(["benchmark", "0", String(PROBLEMS), "--mode", "comparative", "--sandbox", "process", "--queue", url], { cwd: workDir, env });
  expect(result.exitCode, result.stderr).toBe(0);
  return { url, runId: result.stdout.trim() };
}

/** One worker that stops once nothing waits; resolves with its exit and stderr, or fails the test if it keeps waiting. */
async function workUntilIdle(url: string): Promise<{ exitCode: number | undefined; stderr: string }> {
  const child = spawnKoderz(["worker", "--queue", url, "--concurrency", "2", "--sandbox", "process", "--exit-when-idle"], { cwd: workDir, env });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
  const exited = await child;
  clearTimeout(timer);
  return { exitCode: exited.isTerminated ? undefined : exited.exitCode, stderr };
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function inStore<T>(url: string, read: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore({ path: url });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

describe("a queued run's database with hostile rows in it", () => {
  it("rejects jobs that are not its run's when taken, once, against the run, and still ends the run with each of its results", async () => {
    const { url, runId } = await queuedRun();
    const huge = "x".repeat(20_000);
    const boss = await openQueue(url);
    try {
      await boss.insert([
        { name: EXPERIMENT_QUEUE, data: { runId, arm: "zero-shot", problemId: "HumanEval/99" } },
        { name: EXPERIMENT_QUEUE, data: { runId, arm: "zero-shot", problemId: huge } },
        { name: EXPERIMENT_QUEUE, data: { runId: "bench_00000000_20260101_000000", arm: "zero-shot", problemId: tasks[0]!.id } },
        { name: EXPERIMENT_QUEUE, data: { runId, arm: "no-such-arm", problemId: tasks[0]!.id } },
        { name: EXPERIMENT_QUEUE, data: ["not", "a", "job"] },
        // Put in the dead-letter queue by hand: nothing to record, and it must not stall the worker.
        { name: FAILED_QUEUE, data: { runId, arm: "zero-shot", problemId: huge } },
      ]);
    } finally {
      await boss.stop({ graceful: false, wait: true, close: true });
    }

    const worker = await workUntilIdle(url);
    expect(worker.exitCode, worker.stderr.slice(-3000)).toBe(0);
    // Every real pair has its experiment, and the run finished: the rejections counted as nothing.
    expect(inStore(url, (store) => store.experiments(runId).length)).toBe(PAIRS);
    expect(inStore(url, (store) => store.getRun(runId).status)).toBe("finished");
    // Each hostile job failed once: no retry, no dead letter.
    const hostile = await sql<{ state: string; retry_count: number }>(url, `SELECT state, retry_count FROM pgboss.job WHERE name = $1 AND NOT (data ? 'runId' AND data->>'runId' = $2 AND data->>'arm' IN ('zero-shot', 'iterative') AND data->>'problemId' = ANY($3))`, [EXPERIMENT_QUEUE, runId, tasks.map((t) => t.id)]);
    expect(hostile).toHaveLength(5);
    expect(hostile.every((job) => job.state === "failed" && job.retry_count === 0)).toBe(true);
    expect(await sql(url, "SELECT 1 FROM pgboss.job WHERE name = $1 AND state < 'completed'", [FAILED_QUEUE])).toHaveLength(0);
    // No log line holds the whole payload.
    expect(worker.stderr).not.toContain("x".repeat(1000));
    expect(Math.max(...worker.stderr.split("\n").map((line) => line.length))).toBeLessThan(1000);
    expect(worker.stderr).toMatch(/rejected job .*HumanEval\/99 is not one of its run's/);

    // The rejections that name the run are listed with it, with their reason.
    const shown = await koderz(["results", "show", runId, "--db", url], { cwd: workDir, env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/rejected job .*HumanEval\/99 is not one of its run's/);
    expect(shown.stdout).toMatch(/rejected job .*problemId is over 512 bytes/);
    expect(shown.stdout).toMatch(/rejected job .*arm no-such-arm is not one of its run's/);
    expect(shown.stdout).not.toMatch(/^failed /m);
  }, 300_000);

  it("counts one outcome per pair: a final failure that committed first stands, and the run waits for its other pairs", async () => {
    const { url, runId } = await queuedRun();
    const first = tasks[0]!.id;
    // As if the job had been dead-lettered (its lease ran out three times) while a late attempt still ran.
    await sql(url, "INSERT INTO job_failures (run_id, arm, problem_id, attempts, error, failed_at) VALUES ($1, 'zero-shot', $2, 3, 'lease ran out', $3)", [
      runId,
      first,
      new Date().toISOString(),
    ]);
    const worker = await workUntilIdle(url);
    expect(worker.exitCode, worker.stderr.slice(-3000)).toBe(0);
    const experiments = inStore(url, (store) => store.experiments(runId));
    const failures = inStore(url, (store) => store.jobFailures(runId));
    // Exactly one outcome per pair: the failure for (zero-shot, first), an experiment for each other pair.
    expect(experiments.map((e) => `${e.arm} ${e.problemId}`).sort()).toEqual(
      ["iterative", "zero-shot"].flatMap((arm) => tasks.map((t) => `${arm} ${t.id}`)).filter((pair) => pair !== `zero-shot ${first}`).sort(),
    );
    expect(failures.map((f) => `${f.arm} ${f.problemId}`)).toEqual([`zero-shot ${first}`]);
    expect(inStore(url, (store) => store.getRun(runId).status)).toBe("failed");
    // The run ended with its last outcome, not one experiment early.
    const [ended] = await sql<{ end_time: string; last: string }>(url, "SELECT end_time, (SELECT MAX(committed_at) FROM experiments WHERE run_id = $1) AS last FROM runs WHERE run_id = $1", [runId]);
    expect(ended!.end_time >= ended!.last).toBe(true);
  }, 300_000);

  it("resumes with --follow by queueing every pair that has no outcome, whatever its old job became", async () => {
    const { url, runId } = await queuedRun();
    const [a, b] = tasks.map((t) => t.id);
    // Three of the four jobs, each broken a different way; none has an experiment.
    await sql(url, "UPDATE pgboss.job SET state = 'completed', completed_on = now() WHERE name = $1 AND data->>'arm' = 'zero-shot' AND data->>'problemId' = $2", [EXPERIMENT_QUEUE, a]);
    await sql(url, "UPDATE pgboss.job SET state = 'failed', completed_on = now() WHERE name = $1 AND data->>'arm' = 'zero-shot' AND data->>'problemId' = $2", [EXPERIMENT_QUEUE, b]);
    await sql(url, `UPDATE pgboss.job SET data = jsonb_set(data, '{problemId}', '"HumanEval/99"') WHERE name = $1 AND data->>'arm' = 'iterative' AND data->>'problemId' = $2`, [EXPERIMENT_QUEUE, a]);

    const resumed = spawnKoderz(["benchmark", "--resume", runId, "--queue", url, "--follow"], { cwd: workDir, env });
    children.push(resumed);
    let resumeErr = "";
    resumed.stderr?.on("data", (chunk: Buffer) => (resumeErr += chunk.toString()));
    // The worker starts once the jobs are queued (it stops as soon as it finds none).
    for (let i = 0; i < 300 && !/queued/.test(resumeErr); i++) await new Promise((resolve) => setTimeout(resolve, 200));
    const worker = await workUntilIdle(url);
    expect(worker.exitCode, worker.stderr.slice(-3000)).toBe(0);
    const timer = setTimeout(() => resumed.kill("SIGKILL"), 60_000);
    const followed = await resumed;
    clearTimeout(timer);
    expect(followed.exitCode, resumeErr).toBe(0);
    expect(resumeErr).toContain(`${PAIRS} experiments (0 already done, 3 queued, 1 still in the queue)`);
    expect(inStore(url, (store) => store.experiments(runId).length)).toBe(PAIRS);
    expect(inStore(url, (store) => store.getRun(runId).status)).toBe("finished");
  }, 300_000);
});
