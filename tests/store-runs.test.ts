import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import { LATEST_SCHEMA_VERSION, newRunId, openStore, resolveDbPath, type Store } from "../src/store/index.js";
import { looksLikeRunId } from "../src/store/ids.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";

let store: Store;
let dbPath: string;
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dbPath, dir, cleanup } = tempStore());
});
afterEach(() => cleanup());

describe("opening the store", () => {
  it("uses WAL, foreign keys and records the schema version", () => {
    const db = new Database(dbPath, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT MAX(version) AS v FROM schema_version").get()).toEqual({ v: LATEST_SCHEMA_VERSION });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["runs", "experiments", "steps", "model_calls", "run_tags", "experiment_tags"]));
    db.close();
  });

  it("keeps data across reopening and does not migrate twice", () => {
    store.createRun(makeRun({ runId: "bench_00000001_20250101_100000" }));
    store.close();
    const again = openStore({ path: dbPath });
    expect(again.getRun("bench_00000001_20250101_100000").mode).toBe("iterative");
    again.close();
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM schema_version").get()).toEqual({ n: LATEST_SCHEMA_VERSION });
    db.close();
  });

  it("refuses a store written by a newer koderz", () => {
    store.close();
    const db = new Database(dbPath);
    db.prepare("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)").run(LATEST_SCHEMA_VERSION + 1, "later");
    db.close();
    expect(() => openStore({ path: dbPath })).toThrow(/newer than this koderz understands/);
  });

  it("a read-only command on a missing store fails with not_found instead of creating one", () => {
    const missing = path.join(dir, "nope", "koderz.db");
    const error = catchError(() => openStore({ path: missing, mustExist: true }));
    expect(error.code).toBe("not_found");
    expect(error.message).toContain(missing);
  });

  it("resolves --db before KODERZ_DB before results/koderz.db", () => {
    expect(resolveDbPath("/tmp/a.db", { KODERZ_DB: "/tmp/b.db" })).toBe("/tmp/a.db");
    expect(resolveDbPath(undefined, { KODERZ_DB: "/tmp/b.db" })).toBe("/tmp/b.db");
    expect(resolveDbPath(undefined, {})).toBe(path.resolve("results", "koderz.db"));
  });
});

describe("run ids", () => {
  it("are bench_<8 hex>_<UTC YYYYmmdd_HHMMSS>", () => {
    const id = newRunId("bench", new Date("2025-03-04T05:06:07Z"));
    expect(id).toMatch(/^bench_[0-9a-f]{8}_20250304_050607$/);
    expect(looksLikeRunId(id)).toBe(true);
    expect(newRunId()).not.toBe(newRunId());
  });
});

describe("runs", () => {
  it("round-trips a run and adds the automatic tags", () => {
    const run = makeRun({ runId: "bench_00000001_20250101_100000", stage: "baseline", label: "first", category: "nightly", importance: 2 });
    store.createRun(run);
    const stored = store.getRun(run.runId);
    // No model: tag yet: a run is tagged with a model only once it has called it.
    expect(stored).toEqual({
      ...run,
      tags: ["benchmark_run", "kind:benchmark", "mode:iterative"].sort(),
    });
    const experiment = makeExperiment({ runId: run.runId, arm: "iterative", problemId: "HumanEval/0", success: true });
    store.recordExperiment(experiment, makeSteps(experiment.experimentId, 2, "kimi-k2"));
    expect(store.getRun(run.runId).tags).toEqual(["benchmark_run", "kind:benchmark", "mode:iterative", "model:kimi-k2"].sort());
  });

  it("names an unknown run and points at `koderz results list`", () => {
    const error = catchError(() => store.getRun("bench_deadbeef_20250101_000000"));
    expect(error.code).toBe("not_found");
    expect(error.message).toContain("bench_deadbeef_20250101_000000");
    expect(error.hint).toContain("koderz results list");
  });

  it("refuses to create the same run twice", () => {
    const run = makeRun({ runId: "bench_00000001_20250101_100000" });
    store.createRun(run);
    expect(() => store.createRun(run)).toThrow(/already exists/);
  });

  it("finishes a run with a status and end time", () => {
    store.createRun(makeRun({ runId: "bench_00000001_20250101_100000" }));
    store.finishRun("bench_00000001_20250101_100000", "finished", "2025-01-01T10:05:00.000Z");
    const run = store.getRun("bench_00000001_20250101_100000");
    expect(run.status).toBe("finished");
    expect(run.endTime).toBe("2025-01-01T10:05:00.000Z");
    expect(() => store.finishRun("bench_missing0_20250101_100000", "failed")).toThrow(KoderzError);
  });

  it("sets and clears the stage, adds tags once, and rejects tags with commas", () => {
    store.createRun(makeRun({ runId: "r1" }));
    store.setStage("r1", "after_surgery");
    expect(store.getRun("r1").stage).toBe("after_surgery");
    store.setStage("r1", undefined);
    expect(store.getRun("r1").stage).toBeUndefined();
    store.addTags("r1", ["nightly", "nightly", "benchmark_run"]);
    expect(store.getRun("r1").tags.filter((t) => t === "nightly" || t === "benchmark_run")).toEqual(["benchmark_run", "nightly"]);
    expect(() => store.addTags("r1", ["a,b"])).toThrow(/not allowed/);
    expect(() => store.addTags("missing", ["x"])).toThrow(/no run with id missing/);
  });
});

describe("listing runs", () => {
  beforeEach(() => {
    store.createRun(makeRun({ runId: "r_zero", mode: "zero-shot", startTime: "2025-01-01T09:00:00Z", config: { localModel: "kimi-k2" } }));
    store.createRun(makeRun({ runId: "r_iter", mode: "iterative", startTime: "2025-01-02T09:00:00Z", stage: "baseline", config: {} }));
    store.createRun(
      makeRun({ runId: "r_comp", mode: "comparative", startTime: "2025-01-03T09:00:00Z", kind: "evaluate", tags: ["benchmark_run", "nightly"], config: {} }),
    );
    const zero = makeExperiment({ runId: "r_zero", arm: "zero-shot", problemId: "HumanEval/0", success: true });
    store.recordExperiment(zero, makeSteps(zero.experimentId, 1, "kimi-k2"));
    const iter = makeExperiment({ runId: "r_iter", arm: "iterative", problemId: "HumanEval/1", success: false });
    store.recordExperiment(iter, makeSteps(iter.experimentId, 2, "ollama:qwen3-coder:30b"));
    for (const arm of ["zero-shot", "iterative"]) {
      const e = makeExperiment({ runId: "r_comp", arm, problemId: "HumanEval/2", success: true, tags: ["hard"] });
      store.recordExperiment(e, makeSteps(e.experimentId, 1, "openai:gpt-4o"));
    }
  });

  const ids = (filter: Parameters<Store["listRuns"]>[0]) => store.listRuns(filter).map((r) => r.runId);

  it("lists every run oldest first", () => {
    expect(ids({})).toEqual(["r_zero", "r_iter", "r_comp"]);
  });

  it("filters by tags; all must match; a bare tag matches key:tag on the run or its experiments", () => {
    expect(ids({ tags: ["benchmark_run"] })).toEqual(["r_zero", "r_iter", "r_comp"]);
    expect(ids({ tags: ["benchmark_run", "nightly"] })).toEqual(["r_comp"]);
    // mode:zero-shot on r_zero, arm:zero-shot on an experiment of r_comp
    expect(ids({ tags: ["zero-shot"] })).toEqual(["r_zero", "r_comp"]);
    expect(ids({ tags: ["mode:zero-shot"] })).toEqual(["r_zero"]);
    expect(ids({ tags: ["hard"] })).toEqual(["r_comp"]);
    // "shot" is not a whole tag value
    expect(ids({ tags: ["shot"] })).toEqual([]);
  });

  it("filters by model (config tag, steps), problem, kind, mode and stage", () => {
    expect(ids({ model: "kimi-k2" })).toEqual(["r_zero"]);
    expect(ids({ model: "ollama:qwen3-coder:30b" })).toEqual(["r_iter"]);
    expect(ids({ model: "openai:gpt-4o" })).toEqual(["r_comp"]);
    expect(ids({ problem: "HumanEval/2" })).toEqual(["r_comp"]);
    expect(ids({ kind: "evaluate" })).toEqual(["r_comp"]);
    expect(ids({ mode: "iterative" })).toEqual(["r_iter"]);
    expect(ids({ stage: "baseline" })).toEqual(["r_iter"]);
    expect(ids({ kind: "benchmark", problem: "HumanEval/2" })).toEqual([]);
  });
});

function catchError(action: () => unknown): KoderzError {
  try {
    action();
  } catch (error) {
    if (error instanceof KoderzError) return error;
    throw error;
  }
  throw new Error("expected a KoderzError");
}
