import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildRunSummary, RunSummarySchema, type Store } from "../src/store/index.js";
import { EXPORT_COLUMNS } from "../src/store/export.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";
import { runCli } from "./fixtures/store-cli.js";

const A = "bench_aaaaaaaa_20250101_100000";
const C = "bench_cccccccc_20250102_100000";

let store: Store;
let dbPath: string;
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dbPath, dir, cleanup } = tempStore());
  store.createRun(makeRun({ runId: A, mode: "iterative", stage: "baseline", startTime: "2025-01-01T10:00:00.000Z", config: { localModel: "kimi-k2", maxIterations: 5 } }));
  const rows: [string, boolean, number, number, number, number][] = [
    ["HumanEval/10", true, 3, 300, 120, 0.03],
    ["HumanEval/0", true, 1, 100, 50, 0.01],
    ["HumanEval/2", true, 2, 200, 80, 0.02],
    ["HumanEval/1", false, 5, 900, 400, 0.05],
  ];
  for (const [problemId, success, iterations, inputTokens, outputTokens, costUsd] of rows) {
    const e = makeExperiment({ runId: A, arm: "iterative", problemId, success, iterations, inputTokens, outputTokens, costUsd });
    store.recordExperiment(problemId === "HumanEval/1" ? { ...e, verdict: 'failed: expected "a, b"\ngot "c"' } : e, makeSteps(e.experimentId, 1, "kimi-k2"));
  }
  store.finishRun(A, "finished", "2025-01-01T10:02:30.000Z");

  store.createRun(makeRun({ runId: C, mode: "comparative", label: "qwen-vs-itself", startTime: "2025-01-02T10:00:00.000Z", config: { localModel: "ollama:qwen3-coder:30b", frontierModel: "kimi-k2", suite: "humaneval" } }));
  for (const arm of ["zero-shot", "iterative"]) {
    const e = makeExperiment({ runId: C, arm, problemId: "HumanEval/0", success: arm === "iterative" });
    // The comparative run calls only the local model, though its config names a frontier model.
    store.recordExperiment(e, makeSteps(e.experimentId, 1, "ollama:qwen3-coder:30b"));
  }
});
afterEach(() => cleanup());

describe("koderz results list", () => {
  it("prints a table naming each run (label, or model · mode · suite) beside its id, with models, suite, status and figures", async () => {
    const { stdout, exitCode } = await runCli(["results", "list", "--db", dbPath]);
    expect(exitCode).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run\s+id\s+model\(s\)\s+mode\s+suite\s+status\s+start\s+problems\s+success\s+tokens in\/out\s+cost$/);
    expect(lines[1]).toMatch(new RegExp(`^kimi-k2 · iterative\\s+${A}\\s+kimi-k2\\s+iterative \\(baseline\\)\\s+-\\s+finished\\s+2025-01-01 10:00:00\\s+4\\s+75\\.0%\\s+1,500 / 650\\s+\\$0\\.1100$`));
    expect(lines[2]).toMatch(new RegExp(`^qwen-vs-itself\\s+${C}\\s+ollama:qwen3-coder:30b\\s+comparative\\s+humaneval\\s+running\\s`));
    expect(lines[2]).toContain("iterative 100.0%, zero-shot 0.0%");
  });

  it("a run is listed under a model only if it called it, and filters by label, suite and status", async () => {
    const json = async (...flags: string[]) => {
      const { stdout, exitCode } = await runCli(["results", "list", "--db", dbPath, "--json", ...flags]);
      expect(exitCode).toBe(0);
      return (JSON.parse(stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId);
    };
    // C's config names kimi-k2 as its frontier model, but a comparative run never calls it.
    expect(await json("--model", "kimi-k2")).toEqual([A]);
    expect(await json("--model", "ollama:qwen3-coder:30b")).toEqual([C]);
    expect(store.getRun(C).tags.filter((tag) => tag.startsWith("model:"))).toEqual(["model:ollama:qwen3-coder:30b"]);
    expect(await json("--label", "qwen-vs-itself")).toEqual([C]);
    expect(await json("--suite", "humaneval")).toEqual([C]);
    expect(await json("--status", "finished")).toEqual([A]);
    // A run still marked running (interrupted, or going) never looks finished.
    expect(await json("--status", "running")).toEqual([C]);
  });

  it("filters by tag, model, problem and kind, and prints JSON", async () => {
    const json = async (...flags: string[]) => {
      const { stdout, exitCode } = await runCli(["results", "list", "--db", dbPath, "--json", ...flags]);
      expect(exitCode).toBe(0);
      return (JSON.parse(stdout) as { runs: { runId: string }[] }).runs.map((r) => r.runId);
    };
    expect(await json()).toEqual([A, C]);
    expect(await json("--tags", "benchmark_run,zero-shot")).toEqual([C]);
    expect(await json("--model", "kimi-k2")).toEqual([A]);
    expect(await json("--problem", "HumanEval/10")).toEqual([A]);
    expect(await json("--kind", "evaluate")).toEqual([]);
    const document = JSON.parse((await runCli(["results", "list", "--db", dbPath, "--json", "--stage", "baseline"])).stdout) as { schemaVersion: number; runs: Record<string, unknown>[] };
    expect(document.schemaVersion).toBe(1);
    expect(document.runs[0]).toMatchObject({ runId: A, label: null, name: "kimi-k2 · iterative", models: ["kimi-k2"], status: "finished", problems: 4, inputTokens: 1500, outputTokens: 650, arms: [{ arm: "iterative", successes: 3, successRate: 0.75 }] });
  });

  it("reads KODERZ_DB when --db is not given", async () => {
    process.env.KODERZ_DB = dbPath;
    try {
      const { stdout } = await runCli(["results", "list", "--json"]);
      expect((JSON.parse(stdout) as { runs: unknown[] }).runs).toHaveLength(2);
    } finally {
      delete process.env.KODERZ_DB;
    }
  });

  it("a bad --kind is a usage error (exit 2) naming the flag; a missing store is exit 1", async () => {
    const bad = await runCli(["results", "list", "--db", dbPath, "--kind", "nope"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--kind");
    const missing = await runCli(["results", "list", "--db", path.join(dir, "missing.db")]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no koderz store at");
  });
});

describe("koderz results show", () => {
  it("prints the run's config and its problems in natural order", async () => {
    const { stdout, exitCode } = await runCli(["results", "show", A, "--db", dbPath]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^run\s+kimi-k2 · iterative \(bench_aaaaaaaa_20250101_100000\)$/m);
    expect(stdout).toMatch(/^stage\s+baseline$/m);
    expect(stdout).toMatch(/^arm iterative\s+3\/4 solved \(75\.0%\)/m);
    expect(stdout).toContain('"localModel":"kimi-k2"');
    const problems = stdout.split("\n").filter((line) => line.startsWith("iterative ")).map((line) => line.split(/\s+/)[1]);
    expect(problems).toEqual(["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/10"]);
    expect(stdout).toContain('failed: expected "a, b" got "c"');
  });

  it("--json gives the run and its experiments", async () => {
    const { stdout } = await runCli(["results", "show", A, "--db", dbPath, "--json"]);
    const shown = JSON.parse(stdout) as { run: { runId: string; config: unknown }; experiments: unknown[] };
    expect(shown.run).toMatchObject({ runId: A, config: { localModel: "kimi-k2", maxIterations: 5 } });
    expect(shown.experiments).toHaveLength(4);
  });

  it("an unknown run exits 1 and points at results list", async () => {
    const { stderr, exitCode } = await runCli(["results", "show", "bench_00000000_20250101_000000", "--db", dbPath]);
    expect(exitCode).toBe(1);
    expect(stderr).toContain("no run with id bench_00000000_20250101_000000");
    expect(stderr).toContain("koderz results list");
  });
});

describe("koderz results export", () => {
  it("json is the run summary", async () => {
    const { stdout, exitCode } = await runCli(["results", "export", A, "--format", "json", "--db", dbPath]);
    expect(exitCode).toBe(0);
    const exported = RunSummarySchema.parse(JSON.parse(stdout));
    expect(exported).toEqual(buildRunSummary(store, A));
  });

  it("csv has a header and one quoted-where-needed row per experiment", async () => {
    const { stdout } = await runCli(["results", "export", A, "--format", "csv", "--db", dbPath]);
    expect(stdout.startsWith(EXPORT_COLUMNS.join(",") + "\r\n")).toBe(true);
    const e0 = makeExperiment({ runId: A, arm: "iterative", problemId: "HumanEval/0", success: true }).experimentId;
    expect(stdout).toContain(`${A},${e0},iterative,HumanEval/0,true,1,100,50,0.01,2,passed,,,,,,,,arm:iterative;problem:HumanEval/0\r\n`);
    // The verdict with a comma, quotes and a newline is one quoted field.
    expect(stdout).toContain(`,"failed: expected ""a, b""\ngot ""c""",`);
    expect(stdout.split("\r\n").filter(Boolean)).toHaveLength(5);
  });

  it("jsonl has one JSON object per experiment, and --output writes a file", async () => {
    const file = path.join(dir, "out.jsonl");
    const { stdout, stderr, exitCode } = await runCli(["results", "export", A, "--format", "jsonl", "--output", file, "--db", dbPath]);
    expect(exitCode).toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toContain(`wrote ${file}`);
    const rows = readFileSync(file, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows.map((r) => r.problemId)).toEqual(["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/10"]);
    expect(Object.keys(rows[0]!)).toEqual(EXPORT_COLUMNS);
    expect(rows[3]).toMatchObject({ success: true, iterations: 3, inputTokens: 300, outputTokens: 120, costUsd: 0.03 });
  });

  it("exports a graded suite's columns and the final code's measures", async () => {
    const R = "bench_0000c0de_20250103_100000";
    store.createRun(makeRun({ runId: R, mode: "fast", startTime: "2025-01-03T10:00:00.000Z", config: {} }));
    const e = makeExperiment({ runId: R, arm: "fast", problemId: "rubric/lru-cache", success: true });
    store.recordExperiment(
      { ...e, suite: "coder-rubric", category: "coding", tier: "T2", score: 4.2, measures: { code: { cyclomatic: 3, meanCyclomatic: 2, halsteadVolume: 80, sloc: 12, maintainability: 61.5 } } },
      [],
    );
    const { stdout } = await runCli(["results", "export", R, "--format", "jsonl", "--db", dbPath]);
    expect(JSON.parse(stdout)).toMatchObject({ suite: "coder-rubric", category: "coding", tier: "T2", score: 4.2, cyclomaticComplexity: 3, maintainabilityIndex: 61.5 });
  });

  it("an unknown format is a usage error", async () => {
    const { exitCode, stderr } = await runCli(["results", "export", A, "--format", "xml", "--db", dbPath]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain("--format");
  });
});

describe("koderz results tag and stage", () => {
  it("adds tags and sets or clears the stage", async () => {
    expect((await runCli(["results", "tag", C, "nightly", "model:kimi-k2", "--db", dbPath])).exitCode).toBe(0);
    expect(store.getRun(C).tags).toEqual(expect.arrayContaining(["nightly", "model:kimi-k2"]));
    const staged = await runCli(["results", "stage", C, "finetuned", "--db", dbPath]);
    expect(staged.stderr).toContain("stage finetuned");
    expect(store.getRun(C).stage).toBe("finetuned");
    expect((await runCli(["results", "stage", C, "--clear", "--db", dbPath])).exitCode).toBe(0);
    expect(store.getRun(C).stage).toBeUndefined();
  });

  it("stage needs exactly one of a label or --clear, and a label is one word", async () => {
    expect((await runCli(["results", "stage", C, "--db", dbPath])).exitCode).toBe(2);
    expect((await runCli(["results", "stage", C, "x", "--clear", "--db", dbPath])).exitCode).toBe(2);
    expect((await runCli(["results", "stage", C, "two words", "--db", dbPath])).exitCode).toBe(2);
  });
});
