import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { modelConfigFileOf, newRunRequest, resumedConfigPath } from "../src/cli/benchmark-run.js";
import { BenchmarkOptions } from "../src/cli/benchmark-options.js";
import { formatEta, plainProgress } from "../src/cli/progress-line.js";
import { checkWritableDir, writeFileOrFallback } from "../src/output-file.js";
import { KoderzError } from "../src/errors.js";
import type { RunRecord, Store } from "../src/store/index.js";
import { makeRun, recordArm, tempStore } from "./fixtures/store-fixtures.js";
import { runCli } from "./fixtures/store-cli.js";
import { testDataDir } from "./fixtures/datasets.js";

/**
 * Ordinary use does not crash or lose work: a reader that stops early, an output place that
 * cannot be written (checked before any model is called), a special file system that would hang,
 * and a resumed run that finds the --config it was started with.
 */

const bin = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const RUN = "bench_e0e0e0e0_20250101_100000";

let store: Store;
let dbPath: string;
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ store, dbPath, dir, cleanup } = tempStore());
  store.createRun(makeRun({ runId: RUN, label: "many-problems", mode: "iterative" }));
  // Enough rows to fill a pipe's buffer many times over.
  recordArm(store, RUN, "iterative", Array.from({ length: 600 }, (_, i) => i % 3 !== 0));
  store.finishRun(RUN, "finished");
});
afterAll(() => cleanup());

function koderz(args: string[], env: Record<string, string> = {}) {
  return execa("node", [bin, ...args], { reject: false, env: { ...env, KODERZ_DB: dbPath }, timeout: 60_000 });
}

describe("a reader that stops early (EPIPE)", () => {
  for (const args of [["results", "show", RUN], ["results", "export", "many-problems", "--format", "jsonl"], ["compare", "many-problems", "--json"], ["results", "list", "--json"]]) {
    it(`koderz ${args.join(" ")} | head ends quietly`, async () => {
      const command = `set -o pipefail; node ${JSON.stringify(bin)} ${args.map((a) => JSON.stringify(a)).join(" ")} | head -c 20 >/dev/null`;
      const result = await execa("bash", ["-c", command], { reject: false, env: { KODERZ_DB: dbPath } });
      expect(result.stderr).not.toMatch(/EPIPE|internal error|at .*\.js:\d+/);
      expect(result.exitCode).toBe(0);
    });
  }
});

describe("output places are checked before any work", () => {
  it("results export --output on /proc is refused at once, not left hanging", async () => {
    const result = await koderz(["results", "export", RUN, "--format", "csv", "--output", "/proc/koderz-test/out.csv"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--output /proc/koderz-test/out.csv is on a special file system");
  });

  it("results export --output under a file (not a folder) is one error naming the flag", async () => {
    const file = path.join(dir, "a-file");
    writeFileSync(file, "");
    const result = await koderz(["results", "export", RUN, "--format", "csv", "--output", path.join(file, "out.csv")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--output ${path.join(file, "out.csv")} cannot be written`);
    expect(result.stderr).not.toContain("internal error");
  });

  it("benchmark --results-dir that cannot be written fails before any model is called", async () => {
    const file = path.join(dir, "not-a-folder");
    writeFileSync(file, "");
    // The model points at a closed port: had koderz called it first, the error would be about the model.
    const result = await koderz(["benchmark", "0", "1", "--mode", "zero-shot", "--local-model", "openai-compatible:m@http://127.0.0.1:9/v1", "--results-dir", path.join(file, "results")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--results-dir");
    expect(result.stderr).toContain("nothing was run");
    expect(result.stderr).not.toMatch(/127\.0\.0\.1:9|model/i);
  });

  it("benchmark --results-dir on /proc is refused without writing there", async () => {
    const result = await koderz(["benchmark", "0", "1", "--mode", "zero-shot", "--local-model", "openai-compatible:m@http://127.0.0.1:9/v1", "--results-dir", "/proc/self/koderz"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("special file system");
  });

  it("train-meta --out on /proc is refused before any training", async () => {
    const result = await koderz(["train-meta", "--episodes", "50", "--out", "/proc/koderz/policy.json", "--backend", "cpu"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--out /proc/koderz/policy.json is on a special file system");
    expect(result.stderr).not.toContain("tensor backend");
  });

  it("train-meta --env replay refuses runs that logged neither costs nor tokens, instead of ranking arms on zeros", async () => {
    store.createRun(makeRun({ runId: "import_0a0a0a0a_20250101_100000", kind: "import", mode: "fast", label: "no-costs", config: {}, tags: ["cost:unknown", "tokens:unknown"] }));
    recordArm(store, "import_0a0a0a0a_20250101_100000", "fast", [true, false, true, true, false, true]);
    const out = path.join(dir, "replay-policy.json");
    const result = await koderz(["train-meta", "--env", "replay", "--runs", "no-costs", "--episodes", "20", "--out", out, "--backend", "cpu"], { KODERZ_DATA_DIR: testDataDir, KODERZ_OFFLINE: "1" });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("no-costs (import_0a0a0a0a_20250101_100000) logged neither costs nor tokens");
  });

  it("checkWritableDir leaves nothing behind: no probe in a folder that is there, no folder it had to make", () => {
    const there = path.join(dir, "there");
    mkdirSync(there);
    checkWritableDir(there, "--results-dir");
    expect(readdirSync(there)).toEqual([]);
    // A run that then stops (a model not ready) must not leave an empty results/ behind.
    checkWritableDir(path.join(dir, "new", "results"), "--results-dir");
    expect(existsSync(path.join(dir, "new"))).toBe(false);
  });

  it("finished work whose place fails after the run is written to the temporary folder, and the path says so", () => {
    const blocked = path.join(dir, "blocker");
    writeFileSync(blocked, "");
    const said: string[] = [];
    const written = writeFileOrFallback(path.join(blocked, "summary.json"), "{}\n", (message) => said.push(message));
    expect(written.startsWith(tmpdir())).toBe(true);
    expect(said[0]).toMatch(/^warning: cannot write .*summary\.json: .*; wrote it to .*summary\.json instead$/);
    rmSync(path.dirname(written), { recursive: true, force: true });
  });
});

describe("run ids and labels", () => {
  it("results show, export, tag and stage take a label; a label two runs carry lists both", async () => {
    const shown = await runCli(["results", "show", "many-problems", "--json", "--db", dbPath]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ run: { runId: RUN, label: "many-problems" } });
    expect((await runCli(["results", "tag", "many-problems", "checked", "--db", dbPath])).stderr).toContain(`tagged many-problems (${RUN})`);
    store.createRun(makeRun({ runId: "bench_e1e1e1e1_20250102_100000", label: "twice" }));
    store.createRun(makeRun({ runId: "bench_e2e2e2e2_20250103_100000", label: "twice" }));
    const ambiguous = await runCli(["results", "export", "twice", "--format", "json", "--db", dbPath]);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain("2 runs carry the label twice: bench_e1e1e1e1_20250102_100000 (");
    expect(ambiguous.stderr).toContain("bench_e2e2e2e2_20250103_100000 (");
  });
});

describe("a resumed run needs only --resume RUN", () => {
  const flags = (config: string) => BenchmarkOptions.parse({ mode: "zero-shot", config, localModel: "custom-model", frontierModel: "custom-model" });

  it("stores the --config file's path and fingerprint, finds it again, and says when it changed or is gone", () => {
    const work = mkdtempSync(path.join(tmpdir(), "koderz-resume-"));
    try {
      const file = path.join(work, "models.json");
      writeFileSync(file, JSON.stringify({ models: { "custom-model": { provider: "openai-compatible", baseUrl: "http://127.0.0.1:9/v1" } } }));
      const request = newRunRequest(flags(file), { problemRange: [0, 1] });
      if (request.kind !== "new") throw new Error("expected a new run");
      expect(request.config).toMatchObject({ modelConfigFile: modelConfigFileOf(file) });
      const run: RunRecord = makeRun({ runId: "bench_f0f0f0f0_20250101_100000", config: request.config as unknown as Record<string, unknown> });
      const said: string[] = [];
      expect(resumedConfigPath(run, undefined, (m) => said.push(m))).toBe(file);
      expect(said).toEqual([`run ${run.runId}: using --config ${file}, as when it started`]);
      writeFileSync(file, JSON.stringify({ models: { "custom-model": { provider: "openai-compatible", baseUrl: "http://127.0.0.1:10/v1" } } }));
      said.length = 0;
      expect(resumedConfigPath(run, undefined, (m) => said.push(m))).toBe(file);
      expect(said[0]).toMatch(new RegExp(`^warning: ${file.replace(/[.]/g, "\\.")} changed since run ${run.runId} started \\(sha256 [0-9a-f]{12} then, [0-9a-f]{12} now\\)`));
      rmSync(file);
      expect(() => resumedConfigPath(run, undefined, () => undefined)).toThrow(KoderzError);
      expect(() => resumedConfigPath(run, undefined, () => undefined)).toThrow(/was started with --config .*models\.json, which no longer exists/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("koderz benchmark --resume RUN loads the stored --config: its model is known, and is the one reported unreachable", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "koderz-resume-cli-"));
    try {
      const file = path.join(work, "models.json");
      writeFileSync(file, JSON.stringify({ models: { "custom-model": { provider: "openai-compatible", model: "m", baseUrl: "http://127.0.0.1:9/v1" } } }));
      const request = newRunRequest(flags(file), { problemRange: [0, 1], problemIds: ["HumanEval/0"] });
      if (request.kind !== "new") throw new Error("expected a new run");
      const runId = "bench_f1f1f1f1_20250101_100000";
      store.createRun(makeRun({ runId, label: "with-config", mode: "zero-shot", status: "interrupted", config: { ...request.config, suite: "humaneval" } as unknown as Record<string, unknown> }));
      const result = await execa("node", [bin, "benchmark", "--resume", "with-config", "--results-dir", path.join(work, "results")], { reject: false, cwd: work, env: { KODERZ_DB: dbPath }, timeout: 60_000 });
      expect(result.stderr).toContain(`using --config ${file}, as when it started`);
      expect(result.stderr).toContain("127.0.0.1:9");
      expect(result.stderr).not.toContain("unknown model");
      expect(result.exitCode).toBe(1);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe("progress without a terminal", () => {
  it("formats the time left without 60 seconds in a minute or NaN", () => {
    expect(formatEta(599.6)).toBe("10m00s");
    expect(formatEta(59.6)).toBe("1m00s");
    expect(formatEta(3599.7)).toBe("1h00m");
    expect(formatEta(Number.NaN)).toBe("-");
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe("-");
    expect(formatEta(42)).toBe("42s");
  });

  it("writes a line every N items or every 10 s, and at the end", () => {
    const lines: string[] = [];
    let now = 0;
    const progress = plainProgress("evaluated", { every: 10, write: (line) => lines.push(line), now: () => now });
    for (let done = 1; done <= 25; done++) {
      now += done === 13 ? 11_000 : 100;
      progress.update(done, 25, `${done} passed`);
    }
    expect(lines.map((line) => line.split(",")[0])).toEqual(["evaluated 10/25", "evaluated 13/25", "evaluated 23/25", "evaluated 25/25"]);
    expect(lines[3]).toBe("evaluated 25/25, 25 passed\n");
  });
});
