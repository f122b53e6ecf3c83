import type { ResultPromise } from "execa";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { buildRunSummary, openStore, type ComparativeRunSummary, type RunSummary } from "../src/store/index.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz, spawnKoderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, comparativeRunSummary, startTeamWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// `koderz benchmark --queue` and three `koderz worker` processes on one PostgreSQL database:
// the real binary, pg-boss, a throwaway PostgreSQL cluster, the scripted model server (its
// answers are fixtures, not model results) and the process sandbox. Workers are killed with
// SIGKILL, the database is restarted under them, and the results must still be there exactly
// once and equal to a local run of the same problems.
const WRONG_FIRST = new Set(["HumanEval/1", "HumanEval/3"]);
const PROBLEMS = 4;

let postgres: TestPostgres;
let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;
let localSummary: ComparativeRunSummary;
let databases = 0;
const workers: Array<ResultPromise<{ reject: false }>> = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, PROBLEMS);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: WRONG_FIRST, tempPrefix: "koderz-queue-" }));
  const local = await koderz(["benchmark", "0", String(PROBLEMS), "--mode", "comparative", "--sandbox", "process"], { cwd: workDir, env });
  expect(local.exitCode, local.stderr).toBe(0);
  localSummary = comparativeRunSummary(workDir, benchmarkRunIdFrom(local.stderr));
});

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill("SIGKILL");
    await worker;
  }
  server.setScript(codingTeamScript(tasks, { wrongFirst: WRONG_FIRST }));
});

afterAll(async () => {
  await server?.close();
  await postgres?.stop();
});

async function freshDatabase(): Promise<string> {
  databases += 1;
  return postgres.createDatabase(`queue_${databases}`);
}

async function enqueue(url: string, extra: string[] = []): Promise<string> {
  const result = await koderz(["benchmark", "0", String(PROBLEMS), "--mode", "comparative", "--sandbox", "process", "--queue", url, ...extra], { cwd: workDir, env });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.trim();
}

interface Worker {
  process: ResultPromise<{ reject: false }>;
  stderr(): string;
}

function startWorker(url: string, concurrency = 2): Worker {
  const child = spawnKoderz(["worker", "--queue", url, "--concurrency", String(concurrency), "--sandbox", "process"], { cwd: workDir, env });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  workers.push(child);
  return { process: child, stderr: () => stderr };
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, context: () => string, seconds = 180): Promise<T> {
  for (let i = 0; i < seconds * 5; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting\n${context()}`);
}

function runStatus(url: string, runId: string): string {
  const store = openStore({ path: url });
  try {
    return store.getRun(runId).status;
  } finally {
    store.close();
  }
}

function summaryIn(url: string, runId: string): RunSummary {
  const store = openStore({ path: url });
  try {
    return buildRunSummary(store, runId);
  } finally {
    store.close();
  }
}

/** What must match between two runs of the same work: everything but ids and clocks. */
function outcomes(summary: RunSummary) {
  if (!("comparison" in summary)) throw new Error("expected a comparative summary");
  const strip = (arm: ComparativeRunSummary["zeroShot"]) =>
    arm.results.map(({ problemId, success, iterations, costUsd, inputTokens, outputTokens }) => ({ problemId, success, iterations, costUsd, inputTokens, outputTokens }));
  const { wallSecondsDifference: _clock, ...comparison } = summary.comparison;
  return { zeroShot: strip(summary.zeroShot), iterative: strip(summary.iterative), comparison };
}

async function activeJobs(url: string, runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>("SELECT COUNT(*) AS count FROM pgboss.job WHERE name = 'koderz-experiment' AND state = 'active' AND data->>'runId' = $1", [runId]);
    return Number(result.rows[0]!.count);
  } finally {
    await client.end();
  }
}

async function jobAttempts(url: string, runId: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ retry_count: number }>("SELECT retry_count FROM pgboss.job WHERE name = 'koderz-experiment' AND data->>'runId' = $1", [runId]);
    return result.rows.map((row) => row.retry_count + 1);
  } finally {
    await client.end();
  }
}

describe("koderz benchmark --queue with three workers", () => {
  it("commits every result exactly once across a SIGKILL and a database restart, with the summary of a local run", async () => {
    const url = await freshDatabase();
    // Slow answers keep jobs in flight when the kill and the restart land.
    server.setScript(codingTeamScript(tasks, { wrongFirst: WRONG_FIRST, delayMs: 400 }));
    const runId = await enqueue(url, ["--lease-seconds", "15"]);
    expect(runId).toMatch(/^bench_[0-9a-f]{8}_\d{8}_\d{6}$/);
    // Kill one worker with SIGKILL while it holds jobs: it commits nothing more, and its jobs
    // come back after their lease for the others. It starts alone, so every active job is its own.
    const victim = startWorker(url);
    await waitFor(async () => (/committed/.test(victim.stderr()) && (await activeJobs(url, runId)) > 0 ? true : undefined), () => victim.stderr());
    victim.process.kill("SIGKILL");
    await victim.process;
    const others = [startWorker(url), startWorker(url)];
    await postgres.restart();

    await waitFor(() => (runStatus(url, runId) === "running" ? undefined : true), () => others.map((w) => w.stderr()).join("\n---\n"), 500);
    expect(runStatus(url, runId)).toBe("finished");
    const summary = summaryIn(url, runId);
    expect(outcomes(summary)).toEqual(outcomes(localSummary));
    const store = openStore({ path: url });
    try {
      const experiments = store.experiments(runId);
      expect(experiments).toHaveLength(2 * PROBLEMS);
      expect(new Set(experiments.map((e) => `${e.arm}/${e.problemId}`)).size).toBe(2 * PROBLEMS);
    } finally {
      store.close();
    }
    // The killed worker's jobs were taken again, and their attempts counted.
    expect(Math.max(...(await jobAttempts(url, runId)))).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it("marks a job that fails three times as failed, with its error in results show", async () => {
    const url = await freshDatabase();
    const broken = tasks[2]!;
    const team = codingTeamScript(tasks, { wrongFirst: WRONG_FIRST });
    // The model rejects every request about one problem, as a provider rejects a bad request.
    server.setScript((chat, index) => (chat.prompt.includes(`def ${broken.entryPoint}(`) ? { error: 400, message: "prompt rejected by the provider" } : team(chat, index)));
    const runId = await enqueue(url);
    startWorker(url);
    startWorker(url);
    await waitFor(() => (runStatus(url, runId) === "running" ? undefined : true), () => "the run did not end", 300);
    expect(runStatus(url, runId)).toBe("failed");
    expect(await jobAttempts(url, runId).then((attempts) => attempts.filter((n) => n === 3).length)).toBe(2);

    const shown = await koderz(["results", "show", runId, "--db", url], { cwd: workDir, env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`${broken.id}.*3 attempts.*prompt rejected by the provider`));
    const store = openStore({ path: url });
    try {
      expect(store.experiments(runId).map((e) => e.problemId)).not.toContain(broken.id);
      expect(store.experiments(runId)).toHaveLength(2 * (PROBLEMS - 1));
    } finally {
      store.close();
    }
  }, 400_000);

  it("lets a worker stopped with Ctrl-C finish and commit its running job before it exits", async () => {
    const url = await freshDatabase();
    server.setScript(codingTeamScript(tasks, { wrongFirst: WRONG_FIRST, delayMs: 300 }));
    const runId = await enqueue(url);
    const callsBefore = server.chatRequests.length;
    const worker = startWorker(url, 1);
    // A job is in flight once the worker has asked the model something.
    await waitFor(() => (server.chatRequests.length > callsBefore ? true : undefined), () => worker.stderr());
    worker.process.kill("SIGINT");
    const exited = await worker.process;
    expect(exited.exitCode, worker.stderr()).toBe(0);
    const store = openStore({ path: url });
    try {
      const committed = store.experiments(runId).length;
      expect(committed).toBeGreaterThanOrEqual(1);
      expect(committed).toBeLessThan(2 * PROBLEMS);
      expect(worker.stderr()).toMatch(/stopping: finishing the running jobs/);
      expect(worker.stderr().match(/committed /g)?.length).toBe(committed);
    } finally {
      store.close();
    }
  }, 300_000);

  it("resumes a stopped queued run with only what is missing, then replays it from its logged calls with no model call", async () => {
    const url = await freshDatabase();
    const runId = await enqueue(url);
    const first = startWorker(url, 1);
    await waitFor(() => (/committed/.test(first.stderr()) ? true : undefined), () => first.stderr());
    first.process.kill("SIGINT");
    await first.process;
    const done = (() => {
      const store = openStore({ path: url });
      try {
        return store.experiments(runId).length;
      } finally {
        store.close();
      }
    })();

    const resumed = await koderz(["benchmark", "--resume", runId, "--queue", url], { cwd: workDir, env });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    // The stopped worker's untaken jobs were still queued: resuming queues none twice.
    expect(resumed.stderr).toContain(`${2 * PROBLEMS} experiments (${done} already done, 0 queued, ${2 * PROBLEMS - done} still in the queue)`);
    startWorker(url);
    await waitFor(() => (runStatus(url, runId) === "running" ? undefined : true), () => "the resumed run did not end", 300);
    expect(outcomes(summaryIn(url, runId))).toEqual(outcomes(localSummary));

    const callsBefore = server.chatRequests.length;
    const replay = await koderz(["benchmark", "--replay", runId, "--queue", url], { cwd: workDir, env });
    expect(replay.exitCode, replay.stderr).toBe(0);
    const replayId = replay.stdout.trim();
    expect(replayId).not.toBe(runId);
    await waitFor(() => (runStatus(url, replayId) === "running" ? undefined : true), () => "the replay did not end", 300);
    expect(runStatus(url, replayId)).toBe("finished");
    // The same verdicts, as a local replay gives; nothing was paid for.
    const verdicts = (summary: RunSummary) => outcomes(summary).iterative.map(({ problemId, success, iterations }) => ({ problemId, success, iterations }));
    expect(verdicts(summaryIn(url, replayId))).toEqual(verdicts(localSummary));
    expect(outcomes(summaryIn(url, replayId)).zeroShot.map((r) => r.success)).toEqual(outcomes(localSummary).zeroShot.map((r) => r.success));
    expect(server.chatRequests.length).toBe(callsBefore);
  }, 600_000);
});
