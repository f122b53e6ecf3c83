import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import type { LoggedCall } from "../src/llm/types.js";
import { buildRunSummary, experimentIdFor, openStore, type Store } from "../src/store/index.js";
import { repoRoot } from "./fixtures/datasets.js";
import { makeExperiment, makeRun, makeSteps } from "./fixtures/store-fixtures.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// One contract, two engines: every scenario runs on the SQLite file and on PostgreSQL and must
// behave the same; the last test replays one scenario on both and compares what they return.

const lockHolder = path.join(repoRoot, "tests", "fixtures", "run-lock-holder.mjs");
let postgres: TestPostgres;
const sqliteDir = mkdtempSync(path.join(tmpdir(), "koderz-contract-"));
let databases = 0;

beforeAll(async () => {
  postgres = await startTestPostgres();
});

afterAll(async () => {
  await postgres?.stop();
  rmSync(sqliteDir, { recursive: true, force: true });
});

type Engine = "sqlite" | "postgres";

/** A new, empty store of the engine. */
async function freshLocation(engine: Engine): Promise<string> {
  databases += 1;
  return engine === "sqlite" ? path.join(sqliteDir, `store-${databases}.db`) : postgres.createDatabase(`contract_${databases}`);
}

async function freshStore(engine: Engine): Promise<Store> {
  return openStore({ path: await freshLocation(engine) });
}

function errorCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof KoderzError ? error.code : "not a KoderzError";
  }
  return undefined;
}

function loggedCall(hash: string, answer: string, overrides: Partial<LoggedCall> = {}): LoggedCall {
  const response = { text: answer, toolCalls: [], usage: { input: 10, output: 5 }, latencyMs: 50, model: "kimi-k2", costUsd: 0.002 };
  return {
    requestHash: hash,
    model: "kimi-k2",
    request: JSON.stringify({ messages: [hash] }),
    response: JSON.stringify(response),
    inputTokens: 10,
    outputTokens: 5,
    costUsd: 0.002,
    latencyMs: 50,
    createdAt: "2025-01-01T10:00:00.000Z",
    ...overrides,
  };
}

/** A small scenario with runs, experiments, steps, tags and logged calls; returns what every query answers. */
function playScenario(store: Store) {
  store.createRun(makeRun({ runId: "bench_aaaaaaaa_20250101_100000", tags: ["baseline-set"], config: { localModel: "ollama:qwen", problemRange: [0, 12] } }));
  store.createRun(makeRun({ runId: "bench_bbbbbbbb_20250101_110000", mode: "comparative", startTime: "2025-01-01T11:00:00.000Z", config: { localModel: "kimi-k2" } }));
  for (const [index, problem] of ["HumanEval/10", "HumanEval/2", "HumanEval/1"].entries()) {
    const experiment = makeExperiment({ runId: "bench_aaaaaaaa_20250101_100000", arm: "iterative", problemId: problem, success: index !== 1, costUsd: 0.1 + index / 3, tags: index === 0 ? ["hard"] : [] });
    const measures = index === 0 ? { measures: { code: { cyclomatic: 3, meanCyclomatic: 2.5, halsteadVolume: 41.2, sloc: 6, maintainability: 68.75 }, drafts: { inputs: 2, outputs: [["a", "b"], ["a", "!ValueError"]] } } } : {};
    expect(store.recordExperiment({ ...experiment, ...measures }, makeSteps(experiment.experimentId, index + 1))).toBe(true);
  }
  store.setMeasures(experimentIdFor("bench_aaaaaaaa_20250101_100000", "iterative", "HumanEval/2"), { code: { error: "SyntaxError: invalid syntax (line 1)" } });
  for (const arm of ["zero-shot", "iterative"]) {
    const experiment = makeExperiment({ runId: "bench_bbbbbbbb_20250101_110000", arm, problemId: "HumanEval/2", success: arm === "iterative", inputTokens: 2_000_000_000 });
    store.recordExperiment(experiment, makeSteps(experiment.experimentId, 1, "kimi-k2"));
  }
  const log = store.callLog({ runId: "bench_bbbbbbbb_20250101_110000", experimentId: experimentIdFor("bench_bbbbbbbb_20250101_110000", "iterative", "HumanEval/2"), scope: "cache" });
  log.record(loggedCall("h1", "first"));
  log.record(loggedCall("h1", "second"));
  log.record(loggedCall("h2", "broken", { response: undefined, error: "429 Too Many Requests" }));
  store.setStage("bench_aaaaaaaa_20250101_100000", "baseline");
  store.addTags("bench_bbbbbbbb_20250101_110000", ["candidate", "candidate"]);
  store.finishRun("bench_aaaaaaaa_20250101_100000", "finished", "2025-01-01T10:30:00.000Z");

  const a = "bench_aaaaaaaa_20250101_100000";
  const b = "bench_bbbbbbbb_20250101_110000";
  return {
    runs: store.listRuns(),
    byBareTag: store.listRuns({ tags: ["comparative"] }).map((r) => r.runId),
    byExperimentTag: store.listRuns({ tags: ["hard"] }).map((r) => r.runId),
    byModel: store.listRuns({ model: "kimi-k2" }).map((r) => r.runId),
    byProblem: store.listRuns({ problem: "HumanEval/10" }).map((r) => r.runId),
    byStage: store.listRuns({ stage: "baseline" }).map((r) => r.runId),
    experiments: store.experiments(a),
    oneArm: store.experiments(b, { arm: "zero-shot" }),
    steps: store.steps(experimentIdFor(a, "iterative", "HumanEval/1")),
    completed: [...store.completedProblems(a, "iterative")].sort(),
    totals: store.armTotals(b),
    calls: store.modelCalls({ runId: b }),
    cacheHit: store.callLog({ scope: "cache" }).lookup("h1"),
    failedCallIsNoAnswer: store.callLog({ scope: "cache" }).lookup("h2"),
    replayOfOtherRun: store.callLog({ scope: "replay", replayRunId: a }).lookup("h1"),
    summary: buildRunSummary(store, a),
  };
}

describe.each<Engine>(["sqlite", "postgres"])("the %s store", (engine) => {
  it("keeps a run with its own and automatic tags, and refuses the same run id twice", async () => {
    const store = await freshStore(engine);
    try {
      const run = makeRun({ runId: "bench_00000001_20250101_100000", tags: ["nightly"] });
      store.createRun(run);
      // The config names a model, but a run is tagged with one only once a step called it.
      expect(store.getRun(run.runId)).toEqual({ ...run, tags: ["kind:benchmark", "mode:iterative", "nightly"] });
      expect(errorCode(() => store.createRun(run))).toBe("bad_input");
      expect(errorCode(() => store.getRun("bench_ffffffff_20250101_100000"))).toBe("not_found");
      expect(errorCode(() => store.finishRun("bench_ffffffff_20250101_100000", "finished"))).toBe("not_found");
      expect(errorCode(() => store.addTags(run.runId, ["a,b"]))).toBe("bad_input");
      store.finishRun(run.runId, "interrupted", "2025-01-01T10:05:00.000Z");
      store.reopenRun(run.runId);
      expect(store.getRun(run.runId)).toMatchObject({ status: "running" });
      expect(store.getRun(run.runId).endTime).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("commits an experiment once: a second write for the same problem and arm changes nothing", async () => {
    const store = await freshStore(engine);
    try {
      store.createRun(makeRun({ runId: "bench_00000002_20250101_100000" }));
      const first = makeExperiment({ runId: "bench_00000002_20250101_100000", arm: "iterative", problemId: "HumanEval/0", success: true });
      expect(store.recordExperiment(first, makeSteps(first.experimentId, 2))).toBe(true);
      expect(store.recordExperiment({ ...first, success: false }, [])).toBe(false);
      expect(store.experiments("bench_00000002_20250101_100000")).toEqual([{ ...first, tags: ["arm:iterative", "problem:HumanEval/0"] }]);
      expect(store.steps(first.experimentId)).toHaveLength(2);
      const orphan = makeExperiment({ runId: "bench_ffffffff_20250101_100000", arm: "iterative", problemId: "HumanEval/0", success: true });
      expect(errorCode(() => store.recordExperiment(orphan, []))).toBe("not_found");
    } finally {
      store.close();
    }
  });

  it("lets only one of two processes' writers commit the same problem", async () => {
    const location = await freshLocation(engine);
    const [one, two] = [openStore({ path: location }), openStore({ path: location })];
    try {
      one.createRun(makeRun({ runId: "bench_00000003_20250101_100000" }));
      const experiment = makeExperiment({ runId: "bench_00000003_20250101_100000", arm: "fast", problemId: "HumanEval/4", success: true });
      const committed = [one.recordExperiment(experiment, []), two.recordExperiment({ ...experiment, success: false }, [])];
      expect(committed).toEqual([true, false]);
      expect(two.experiments("bench_00000003_20250101_100000").map((e) => e.success)).toEqual([true]);
    } finally {
      one.close();
      two.close();
    }
  });

  it("lets one process at a time work on a run, names the holder to the next, and frees it when the holder is killed", async () => {
    const location = await freshLocation(engine);
    const runId = "bench_00000004_20250101_100000";
    const [one, two] = [openStore({ path: location }), openStore({ path: location })];
    try {
      const held = one.lockRun(runId);
      expect(() => two.lockRun(runId)).toThrow(new RegExp(`run ${runId} is already being worked on by process ${process.pid} on ${hostname()}, started \\d{4}-`));
      two.lockRun("bench_00000005_20250101_100000").release(); // another run is free
      held.release();
      two.lockRun(runId).release();

      const holder = execa(process.execPath, [lockHolder, pathToFileURL(path.join(repoRoot, "dist", "src", "store", "index.js")).href, location, runId], { reject: false });
      await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
      expect(() => two.lockRun(runId)).toThrow(new RegExp(`by process ${holder.pid} on`));
      holder.kill("SIGKILL");
      await holder;
      await expect.poll(() => errorCode(() => two.lockRun(runId).release()), { timeout: 10_000 }).toBeUndefined();
    } finally {
      one.close();
      two.close();
    }
  });

  it("refuses to open a store that does not exist when asked to read one", async () => {
    const location = await freshLocation(engine);
    expect(errorCode(() => openStore({ path: location, mustExist: true }))).toBe("not_found");
  });
});

describe("both engines", () => {
  it("answer every query of the same scenario identically", async () => {
    const answers: ReturnType<typeof playScenario>[] = [];
    for (const engine of ["sqlite", "postgres"] as const) {
      const store = await freshStore(engine);
      try {
        answers.push(playScenario(store));
      } finally {
        store.close();
      }
    }
    const [sqlite, postgresAnswers] = answers as [ReturnType<typeof playScenario>, ReturnType<typeof playScenario>];
    // The scenario itself is checked once, so "identical" cannot mean "identically empty".
    expect(sqlite.runs.map((r) => r.runId)).toEqual(["bench_aaaaaaaa_20250101_100000", "bench_bbbbbbbb_20250101_110000"]);
    expect(sqlite.byBareTag).toEqual(["bench_bbbbbbbb_20250101_110000"]);
    expect(sqlite.byExperimentTag).toEqual(["bench_aaaaaaaa_20250101_100000"]);
    expect(sqlite.byModel).toEqual(["bench_bbbbbbbb_20250101_110000"]);
    expect(sqlite.experiments.map((e) => e.problemId)).toEqual(["HumanEval/1", "HumanEval/2", "HumanEval/10"]);
    expect(sqlite.experiments.map((e) => e.measures?.code)).toEqual([undefined, { error: "SyntaxError: invalid syntax (line 1)" }, expect.objectContaining({ cyclomatic: 3 })]);
    expect(sqlite.totals.map((t) => [t.arm, t.inputTokens])).toEqual([["iterative", 2_000_000_000], ["zero-shot", 2_000_000_000]]);
    expect(sqlite.cacheHit?.text).toBe("second");
    expect(sqlite.failedCallIsNoAnswer).toBeUndefined();
    expect(sqlite.replayOfOtherRun).toBeUndefined();
    expect(sqlite.calls).toHaveLength(3);

    const { summary: sqliteSummary, ...sqliteRest } = sqlite;
    const { summary: postgresSummary, ...postgresRest } = postgresAnswers;
    expect(postgresRest).toEqual(sqliteRest);
    expect(postgresSummary).toEqual(sqliteSummary);
  });
});
