import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Program, RunOptions, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { canonicalRunTimes, limitsFromRunTimes, scaledTimeLimits } from "../src/evaluation/time-limits.js";
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
