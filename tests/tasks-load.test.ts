import { mkdtempSync, copyFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import { loadSuite, loadSuiteFile, resolveDataset, selectRange } from "../tasks/load.js";
import { humanEvalFile, humanEvalPlusFile, testDataDir } from "./fixtures/datasets.js";

/** An environment where nothing is found unless a test puts it there, and nothing is downloaded. */
function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const cache = mkdtempSync(path.join(tmpdir(), "koderz-cache-"));
  return { KODERZ_CACHE_DIR: cache, KODERZ_OFFLINE: "1", ...extra };
}

async function errorOf(promise: Promise<unknown>): Promise<KoderzError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KoderzError) return error;
    throw error;
  }
  throw new Error("expected a KoderzError");
}

describe("loadSuite", () => {
  it("loads the 164 HumanEval problems in order, with every field of a Task", async () => {
    const tasks = await loadSuite({ suite: "humaneval", env: { KODERZ_DATA_DIR: testDataDir, KODERZ_OFFLINE: "1" } });
    expect(tasks).toHaveLength(164);
    expect(tasks.map((t) => t.index)).toEqual([...Array(164).keys()]);
    const first = tasks[0]!;
    expect(first).toMatchObject({ id: "HumanEval/0", index: 0, suite: "humaneval", entryPoint: "has_close_elements" });
    expect(first.prompt).toContain("def has_close_elements(");
    expect(first.canonicalSolution).toContain("return");
    expect(first.hiddenTest).toContain("def check(candidate)");
    expect(first.visibleExamples.length).toBeGreaterThan(0);
  });

  it("loads HumanEval+ from the OriginFmt file, whose tests are check(candidate) functions", async () => {
    const tasks = await loadSuite({ suite: "humaneval+", env: { KODERZ_DATA_DIR: testDataDir, KODERZ_OFFLINE: "1" } });
    expect(tasks).toHaveLength(164);
    expect(tasks.every((t) => t.suite === "humaneval+" && t.hiddenTest.includes("def check(candidate)"))).toBe(true);
    const base = await loadSuiteFile(humanEvalFile, "humaneval");
    // The same problems with many more tests.
    expect(tasks.map((t) => t.id)).toEqual(base.map((t) => t.id));
    expect(tasks[0]!.hiddenTest.length).toBeGreaterThan(base[0]!.hiddenTest.length);
    // The published test of HumanEval/32 unpacks a float; the loader applies EvalPlus's intended check.
    expect(tasks[32]!.hiddenTest).toContain("assert abs(_poly(*inp, candidate(*inp))) <= 0.0001");
    expect(tasks[32]!.hiddenTest).not.toContain("_poly(*candidate(*inp), inp)");
  });

  it("takes --dataset words and paths; a path's suite comes from its file name", async () => {
    const env = { KODERZ_DATA_DIR: testDataDir, KODERZ_OFFLINE: "1" };
    expect((await resolveDataset({ suite: "humaneval", dataset: "humaneval+", env })).suite).toBe("humaneval+");
    expect(await resolveDataset({ suite: "humaneval", dataset: humanEvalPlusFile, env })).toEqual({ suite: "humaneval+", file: humanEvalPlusFile });
    const tasks = await loadSuite({ suite: "humaneval", dataset: humanEvalFile, env: isolatedEnv() });
    expect(tasks).toHaveLength(164);
  });

  it("reads plain .jsonl as well as .jsonl.gz", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "koderz-data-"));
    const file = path.join(dir, "tiny.jsonl");
    writeFileSync(file, JSON.stringify(tinyProblem("Tiny/0")) + "\n\n" + JSON.stringify(tinyProblem("Tiny/1")) + "\n");
    const tasks = await loadSuiteFile(file, "humaneval");
    expect(tasks.map((t) => [t.id, t.index])).toEqual([["Tiny/0", 0], ["Tiny/1", 1]]);
    writeFileSync(`${file}.gz`, gzipSync(JSON.stringify(tinyProblem("Tiny/0"))));
    expect(await loadSuiteFile(`${file}.gz`, "humaneval")).toHaveLength(1);
  });
});

describe("where datasets are found", () => {
  it("prefers --dataset, then KODERZ_DATA_DIR, then the user cache", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "koderz-data-"));
    copyFileSync(humanEvalFile, path.join(dataDir, "HumanEval.jsonl.gz"));
    const env = isolatedEnv({ KODERZ_DATA_DIR: dataDir });
    const cacheCopy = path.join(env.KODERZ_CACHE_DIR!, "datasets", "HumanEval.jsonl.gz");
    mkdirSync(path.dirname(cacheCopy), { recursive: true });
    copyFileSync(humanEvalFile, cacheCopy);

    expect((await resolveDataset({ suite: "humaneval", dataset: humanEvalFile, env })).file).toBe(humanEvalFile);
    expect((await resolveDataset({ suite: "humaneval", env })).file).toBe(path.join(dataDir, "HumanEval.jsonl.gz"));
    const { KODERZ_DATA_DIR: _unused, ...withoutDataDir } = env;
    expect((await resolveDataset({ suite: "humaneval", env: withoutDataDir })).file).toBe(cacheCopy);
  });

  it("when nothing is found, one error names every place it looked and how to fix it", async () => {
    const env = isolatedEnv({ KODERZ_DATA_DIR: "/nonexistent/datasets" });
    const error = await errorOf(loadSuite({ suite: "humaneval+", env }));
    expect(error.code).toBe("not_found");
    expect(error.message).toContain("HumanEval+ dataset not found");
    expect(error.message).toContain("--dataset PATH: not given");
    expect(error.message).toContain("KODERZ_DATA_DIR=/nonexistent/datasets");
    expect(error.message).toContain(path.join(env.KODERZ_CACHE_DIR!, "datasets"));
    expect(error.message).toContain("https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus-OriginFmt.jsonl.gz");
    expect(error.hint).toContain("export KODERZ_DATA_DIR=/path/to/datasets");
    expect(error.hint).toContain("--dataset");
  });

  it("tries the upstream download when online, and says why it failed", async () => {
    const { KODERZ_OFFLINE: _unused, ...online } = isolatedEnv();
    const started = Date.now();
    const error = await errorOf(loadSuite({ suite: "humaneval", env: online }));
    expect(error.message).toMatch(/download from https:\/\/github\.com\/openai\/human-eval\/raw\/master\/data\/HumanEval\.jsonl\.gz: failed/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("a missing --dataset file is an error naming it, with no fallback to another file", async () => {
    const error = await errorOf(loadSuite({ suite: "humaneval", dataset: "/nope/HumanEval.jsonl", env: { KODERZ_DATA_DIR: testDataDir } }));
    expect(error.code).toBe("not_found");
    expect(error.message).toContain("/nope/HumanEval.jsonl");
  });
});

describe("malformed dataset files", () => {
  function fileWith(lines: string[]): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "koderz-bad-")), "bad.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    return file;
  }

  it("a line that is not JSON names the file and line", async () => {
    const file = fileWith([JSON.stringify(tinyProblem("T/0")), "{not json"]);
    const error = await errorOf(loadSuiteFile(file, "humaneval"));
    expect(error.code).toBe("bad_input");
    expect(error.message).toContain(`${file}:2: not valid JSON`);
  });

  it("a line without a required field names the file, line and field", async () => {
    const { entry_point: _unused, ...noEntryPoint } = tinyProblem("T/1");
    const error = await errorOf(loadSuiteFile(fileWith([JSON.stringify(tinyProblem("T/0")), "", JSON.stringify(noEntryPoint)]), "humaneval"));
    expect(error.message).toMatch(/bad\.jsonl:3: field "entry_point"/);
  });

  it("EvalPlus's native HumanEvalPlus.jsonl.gz (inputs, not check tests) is refused with the right file to use", async () => {
    const error = await errorOf(loadSuiteFile(path.join(testDataDir, "HumanEvalPlus.jsonl.gz"), "humaneval+"));
    expect(error.message).toContain("native format");
    expect(error.hint).toContain("HumanEvalPlus-OriginFmt.jsonl.gz");
  });

  it("a repeated task_id is an error", async () => {
    const error = await errorOf(loadSuiteFile(fileWith([JSON.stringify(tinyProblem("T/0")), JSON.stringify(tinyProblem("T/0"))]), "humaneval"));
    expect(error.message).toContain("T/0 already appeared on line 1");
  });
});

describe("selectRange", () => {
  const tasks = Array.from({ length: 164 }, (_, index) => ({ index }));

  it("selects [start, end)", () => {
    expect(selectRange(tasks, 0, 164)).toHaveLength(164);
    expect(selectRange(tasks, 10, 13).map((t) => t.index)).toEqual([10, 11, 12]);
  });

  it("out-of-range or empty ranges are usage errors that say what is allowed", () => {
    for (const [start, end] of [[0, 165], [-1, 3], [5, 5], [7, 3], [0.5, 3]] as const) {
      const call = () => selectRange(tasks, start, end);
      expect(call).toThrow(KoderzError);
      expect(call).toThrow(/0 <= START < END <= 164/);
    }
    try {
      selectRange(tasks, 0, 200);
    } catch (error) {
      expect((error as KoderzError).exitCode).toBe(2);
    }
  });
});

function tinyProblem(id: string) {
  return {
    task_id: id,
    prompt: 'def inc(x):\n    """Add one.\n    >>> inc(1)\n    2\n    """\n',
    entry_point: "inc",
    canonical_solution: "    return x + 1\n",
    test: "def check(candidate):\n    assert candidate(1) == 2\n",
  };
}
