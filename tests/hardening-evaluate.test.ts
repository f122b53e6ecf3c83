import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { ReferenceHarnessSandbox } from "./fixtures/reference-oracle.js";
import { runEvaluateCli } from "./fixtures/run-evaluate.js";

let work: string;
let tasks: Task[];
beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "koderz-hardening-evaluate-"));
  tasks = await loadSuiteFile(humanEvalFile, "humaneval");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function samplesFile(name: string, lines: object[]): string {
  const file = path.join(work, name);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return file;
}

describe("koderz evaluate: flags", () => {
  it("--timeout takes decimal seconds, more than 0 and at most an hour", async () => {
    const file = samplesFile("timeout.jsonl", [{ task_id: "HumanEval/0", completion: tasks[0]!.canonicalSolution }]);
    for (const value of ["0x10", "1e3", "Infinity", "0", "3601", "abc", "1e9"]) {
      const run = await runEvaluateCli([file, "--dataset", humanEvalFile, "--allow-partial", "--timeout", value], new ReferenceHarnessSandbox());
      expect([value, run.exitCode, run.error?.message.startsWith("--timeout")]).toEqual([value, 2, true]);
    }
    const ok = await runEvaluateCli([file, "--dataset", humanEvalFile, "--allow-partial", "--timeout", "2.5"], new ReferenceHarnessSandbox());
    expect(ok.stderr + ok.stdout).toContain("pass@1: 1.0000\n");
  });

  it("--k and --workers take decimal digits only", async () => {
    const file = samplesFile("k.jsonl", [{ task_id: "HumanEval/0", completion: tasks[0]!.canonicalSolution }]);
    for (const [flag, value] of [["--k", "0x1"], ["--k", "1e1"], ["--workers", "0x2"], ["--workers", "2.0"]]) {
      const run = await runEvaluateCli([file, "--dataset", humanEvalFile, "--allow-partial", flag!, value!], new ReferenceHarnessSandbox());
      expect([flag, value, run.exitCode]).toEqual([flag, value, 2]);
    }
  });
});

describe("koderz benchmark: problem ranges", () => {
  it("START and END take decimal digits only", async () => {
    const cwd = path.join(work, "ranges");
    mkdirSync(cwd);
    for (const [start, end] of [["0x0", "2"], ["0", "0x2"], ["1e0", "2"], ["0", " 2"], ["-1", "2"]]) {
      const run = await koderz(["benchmark", start!, end!], { cwd });
      expect([start, end, run.exitCode]).toEqual([start, end, 2]);
      expect(run.stderr).toMatch(/START and END must be whole numbers/);
    }
  });

  it("flags that cannot work together are one usage error, with the fix, before any model or dataset is looked at", async () => {
    const cwd = path.join(work, "conflicts");
    mkdirSync(cwd);
    const instances = path.join(cwd, "instances.jsonl");
    writeFileSync(instances, "{}\n");
    const cases: [string[], string][] = [
      [["--resume", "a", "--replay", "b"], "--resume and --replay cannot be combined"],
      [["--suite", "humaneval", "--resume", "a"], "--suite starts a new run"],
      [["--suite", instances], "holds SWE-bench instances, which are solved in clones of their repositories"],
      [["0", "2", "--queue", "mysql://db/koderz"], "--queue takes a postgres:// URL"],
      [["0", "2", "--queue", "postgres://db/koderz", "--db", "other.db"], "with --queue, the store is the queue's database"],
      [["0", "2", "--image-for", "acme/x=img"], "--image-for names a repository's workspace image for a SWE-bench instances suite"],
    ];
    for (const [args, message] of cases) {
      const run = await koderz(["benchmark", ...args], { cwd });
      expect([args, run.exitCode], run.stderr).toEqual([args, 2]);
      expect(run.stderr).toContain(message);
    }
  });
});

describe("koderz evaluate: a program that floods its output", () => {
  // The reference harness swallows a program's output; koderz keeps the first outputBytes and the
  // runner discards the rest as it reads. A generous --timeout keeps this about verdicts, not speed
  // (writing 100 MB anywhere takes seconds on a loaded machine).
  it("prints 100 MB and then answers correctly: passed, as in the reference harness", async () => {
    const task = tasks[0]!;
    const flood = "    import sys\n    if not getattr(sys, 'flooded', False):\n        sys.flooded = True\n        sys.stdout.write('x' * 100_000_000)\n        sys.stdout.flush()\n";
    const file = samplesFile("flood.jsonl", [{ task_id: task.id, completion: flood + task.canonicalSolution }]);
    const run = await koderz(["evaluate", file, "--allow-partial", "--sandbox", "process", "--timeout", "120", "--k", "1"], { cwd: work });
    expect(run.stdout).toBe("pass@1: 1.0000");
    const result = JSON.parse(readFileSync(`${file}_results.jsonl`, "utf8")) as { result: string; passed: boolean };
    expect(result).toMatchObject({ result: "passed", passed: true });
  }, 300_000);
});
