import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Program, RunOptions, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { evaluateSamples } from "../src/evaluation/evaluate-samples.js";
import { canonicalRunTimes, limitsFromRunTimes, onDemandTimeLimits, scaledTimeLimits } from "../src/evaluation/time-limits.js";
import type { Task } from "../tasks/task.js";

/** A scripted sandbox: each program "runs" for the seconds its task is given, and passes unless listed as failing. */
class ScriptedSandbox implements Sandbox {
  readonly name = "docker" as const;
  readonly ran: Program[] = [];
  constructor(
    private readonly seconds: Record<string, number>,
    private readonly failing: string[] = [],
  ) {}
  async run(programs: Program[], _options?: RunOptions): Promise<Verdict[]> {
    this.ran.push(...programs);
    return programs.map((p) => {
      const passed = !this.failing.includes(p.id);
      return { id: p.id, status: passed ? "passed" : "failed", result: passed ? "passed" : "failed: boom", passed, durationMs: this.seconds[p.id]! * 1000, output: "" };
    });
  }
  async close(): Promise<void> {}
}

const task = (id: string, test = "def check(candidate):\n    pass\n"): Task => ({
  id,
  index: 0,
  suite: "humaneval+",
  prompt: `def f():\n    """${id}"""\n`,
  entryPoint: "f",
  canonicalSolution: "    return 1\n",
  visibleExamples: [],
  hiddenTest: test,
});

describe("HumanEval+ time limits", () => {
  const cacheDir = () => mkdtempSync(path.join(tmpdir(), "koderz-limits-"));

  it("are max(default, 4 x the canonical program's time), as EvalPlus scales them", async () => {
    const sandbox = new ScriptedSandbox({ light: 0.05, heavy: 2.5, middle: 0.8 });
    const limits = await scaledTimeLimits([task("light"), task("heavy"), task("middle")], sandbox, { cacheDir: cacheDir() });
    expect(Object.fromEntries(limits)).toEqual({ light: 3, heavy: 10, middle: 3.2 });
  });

  it("measure once: later runs read the cache, and only new or changed tasks are measured", async () => {
    const dir = cacheDir();
    const first = new ScriptedSandbox({ a: 1, b: 2 });
    await canonicalRunTimes([task("a"), task("b")], first, { cacheDir: dir });
    expect(first.ran.map((p) => p.id)).toEqual(["a", "b"]);
    // Measured generously, so a slow canonical solution is timed rather than cut off.
    expect(first.ran.every((p) => p.timeoutSeconds >= 60)).toBe(true);

    const again = new ScriptedSandbox({ a: 9, b: 9, c: 0.5 });
    const times = await canonicalRunTimes([task("a"), task("b", "def check(candidate):\n    assert True\n"), task("c")], again, { cacheDir: dir });
    expect(again.ran.map((p) => p.id)).toEqual(["b", "c"]); // b's test changed, c is new
    expect(Object.fromEntries(times)).toEqual({ a: 1, b: 9, c: 0.5 });
  });

  it("are kept per sandbox: times in one sandbox say nothing about another", async () => {
    const dir = cacheDir();
    await canonicalRunTimes([task("a")], new ScriptedSandbox({ a: 1 }), { cacheDir: dir });
    const other: Sandbox = Object.assign(new ScriptedSandbox({ a: 3 }), { name: "process" as const });
    expect((await canonicalRunTimes([task("a")], other, { cacheDir: dir })).get("a")).toBe(3);
  });

  it("a canonical solution that fails keeps the default limit, is reported, and is not cached", async () => {
    const notices: string[] = [];
    const dir = cacheDir();
    const sandbox = new ScriptedSandbox({ bad: 1 }, ["bad"]);
    const limits = await scaledTimeLimits([task("bad")], sandbox, { cacheDir: dir, defaultTimeoutSeconds: 3, onNotice: (m) => notices.push(m) });
    expect(limits.get("bad")).toBe(3);
    expect(notices.join("\n")).toContain("the canonical solution of bad did not pass in the docker sandbox (failed: boom)");
    const retry = new ScriptedSandbox({ bad: 1 });
    await canonicalRunTimes([task("bad")], retry, { cacheDir: dir });
    expect(retry.ran).toHaveLength(1);
  });

  it("limitsFromRunTimes rounds up to a tenth of a second and never goes below the floor", () => {
    const limits = limitsFromRunTimes([task("x"), task("y"), task("z")], new Map([["x", 1.01], ["y", 0.1]]), 3, 4);
    expect(Object.fromEntries(limits)).toEqual({ x: 4.1, y: 3, z: 3 });
  });
});

/**
 * A scripted sandbox whose programs take the seconds written in their code (`# takes 2.5 s`):
 * one that takes longer than its limit times out, as a real one would.
 */
class TimedSandbox implements Sandbox {
  readonly name = "docker" as const;
  readonly ran: Program[] = [];
  async run(programs: Program[], _options?: RunOptions): Promise<Verdict[]> {
    this.ran.push(...programs);
    return programs.map((p) => {
      const seconds = Number(/# takes ([\d.]+) s/.exec(p.source)![1]);
      const inTime = seconds <= p.timeoutSeconds;
      return {
        id: p.id,
        status: inTime ? "passed" : "timed out",
        result: inTime ? "passed" : "timed out",
        passed: inTime,
        durationMs: Math.min(seconds, p.timeoutSeconds) * 1000,
        output: "",
      };
    });
  }
  async close(): Promise<void> {}
}

describe("HumanEval+ time limits on demand", () => {
  const timed = (id: string, canonicalSeconds: number): Task => ({ ...task(id), canonicalSolution: `    return 1  # takes ${canonicalSeconds} s\n` });

  it("measure only the tasks where a program ran out of the floor, and rerun those programs under their limit", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "koderz-on-demand-"));
    const tasks = [timed("light", 0.1), timed("heavy", 2.5), timed("spin", 0.05)];
    const samplesFile = path.join(dir, "samples.jsonl");
    const samples = [
      { task_id: "light", completion: "    return 1  # takes 0.2 s\n" },
      { task_id: "heavy", completion: "    return 1  # takes 5 s\n" }, // over the 3 s floor, within 4 x 2.5 s
      { task_id: "spin", completion: "    return 1  # takes 100 s\n" }, // an endless loop: over any limit
    ];
    writeFileSync(samplesFile, samples.map((sample) => JSON.stringify(sample)).join("\n") + "\n");
    const sandbox = new TimedSandbox();
    const summary = await evaluateSamples({
      samplesFile,
      tasks,
      datasetLabel: "HumanEval+",
      sandbox,
      ks: [1],
      timeLimits: onDemandTimeLimits(sandbox, { cacheDir: path.join(dir, "cache"), defaultTimeoutSeconds: 3 }),
    });

    const results = readFileSync(summary.resultsFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; result: string });
    expect(results.map((line) => [line.task_id, line.result])).toEqual([
      ["light", "passed"],
      ["heavy", "passed"],
      ["spin", "timed out"],
    ]);
    // light's canonical solution never ran: its sample ended within the floor.
    const ran = sandbox.ran.map((program) => [program.id, program.timeoutSeconds]);
    expect(ran.filter(([id]) => typeof id === "string" && Number.isNaN(Number(id))).map(([id]) => id).sort()).toEqual(["heavy", "spin"]);
    // heavy's sample ran again under 4 x 2.5 s; spin's limit stayed at the floor, so it did not.
    expect(ran.filter(([id]) => !Number.isNaN(Number(id)))).toEqual([
      ["1", 3],
      ["2", 3],
      ["3", 3],
      ["2", 10],
    ]);
  });
});
