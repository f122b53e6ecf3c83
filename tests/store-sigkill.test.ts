import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/index.js";
import { tempStore } from "./fixtures/store-fixtures.js";

/**
 * A run killed with SIGKILL and resumed loses nothing and counts nothing twice. A child node
 * process writes experiments through the real Store (transpiled from src/ into
 * node_modules/.cache, where it still resolves better-sqlite3) and is killed with -9 while
 * writing; the store must then hold only whole experiments, every one the child reported.
 */

const root = path.resolve(import.meta.dirname, "..");
const compiled = path.join(root, "node_modules", ".cache", `koderz-store-sigkill-${process.pid}`);
const writer = path.join(root, "tests", "fixtures", "store-sigkill-writer.mjs");
const RUN = "bench_0badc0de_20250101_100000";

beforeAll(() => {
  // The store and what it imports at run time: src/store/*.ts, src/errors.ts and src/output-file.ts.
  const sources = [
    ...readdirSync(path.join(root, "src", "store")).filter((f) => f.endsWith(".ts")).map((f) => path.join("src", "store", f)),
    path.join("src", "errors.ts"),
    path.join("src", "output-file.ts"),
    path.join("src", "json-contract.ts"),
  ];
  for (const source of sources) {
    const output = ts.transpileModule(readFileSync(path.join(root, source), "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const target = path.join(compiled, source.replace(/\.ts$/, ".js"));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, output.outputText);
  }
});
afterAll(() => rmSync(compiled, { recursive: true, force: true }));

const storeModuleUrl = () => pathToFileURL(path.join(compiled, "src", "store", "index.js")).href;

/**
 * Runs the writer; with `killAfter`, SIGKILLs it `delayMs` after it has reported that many
 * commits. The delays vary so the kills land at different points of a write.
 */
function runWriter(
  dbPath: string,
  limit: number,
  killAfter?: number,
  delayMs = 0,
): Promise<{ reported: number[]; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, storeModuleUrl(), dbPath, RUN, String(limit)], { stdio: ["ignore", "pipe", "pipe"] });
    const reported: number[] = [];
    let buffered = "";
    let stderr = "";
    let killing = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) reported.push(Number(line.replace("committed ", "")));
      if (killAfter !== undefined && reported.length >= killAfter && !killing) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (killAfter === undefined && code !== 0) reject(new Error(`writer failed (${code}): ${stderr}`));
      else resolve({ reported, signal });
    });
  });
}

/** Every stored experiment has exactly the steps it was written with, and problems 0..n-1 are each there once. */
function checkWhole(dbPath: string): number[] {
  const store = openStore({ path: dbPath });
  try {
    const experiments = store.experiments(RUN);
    const problems = experiments.map((e) => Number(e.problemId.split("/")[1]));
    expect(new Set(problems).size).toBe(problems.length);
    for (const experiment of experiments) {
      const i = Number(experiment.problemId.split("/")[1]);
      const steps = store.steps(experiment.experimentId);
      expect(steps.map((s) => s.index)).toEqual(Array.from({ length: (i % 8) + 1 }, (_, index) => index));
      steps.forEach((step) => expect(step.response!.startsWith(`${i}:${step.index}:`)).toBe(true));
      expect(experiment.iterations).toBe(steps.length);
    }
    return problems.sort((a, b) => a - b);
  } finally {
    store.close();
  }
}

describe("SIGKILL durability", () => {
  it("keeps every reported experiment whole across kills, and a resume completes the run without duplicates", async () => {
    const { dbPath, cleanup } = tempStore();
    try {
      const limit = 2000;
      let previous = 0;
      for (const [round, delayMs] of [0, 1, 2, 3, 5, 8].entries()) {
        const { reported, signal } = await runWriter(dbPath, limit, 5 + round, delayMs);
        expect(signal).toBe("SIGKILL");
        const stored = checkWhole(dbPath);
        // Nothing reported as committed is lost; at most the one in flight also made it.
        for (const problem of reported) expect(stored).toContain(problem);
        expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i));
        expect(stored.length).toBeGreaterThanOrEqual(previous + reported.length);
        expect(stored.length).toBeLessThanOrEqual(previous + reported.length + 1);
        previous = stored.length;
      }

      // Resume to the end: each problem exactly once, each whole.
      const { reported } = await runWriter(dbPath, limit);
      expect(reported[0]).toBe(previous);
      expect(checkWhole(dbPath)).toEqual(Array.from({ length: limit }, (_, i) => i));
      const store = openStore({ path: dbPath });
      const totals = store.armTotals(RUN)[0]!;
      store.close();
      expect(totals.experiments).toBe(limit);
      // Σ over i < 2000 of ((i % 8) + 1) = 250 · (1 + 2 + … + 8)
      expect(totals.iterations).toBe(9000);
    } finally {
      cleanup();
    }
  });
});
