import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Program, RunOptions, Verdict } from "../sandbox/sandbox.js";
import { referenceProgram } from "../src/evaluation/program.js";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { gpt4ZeroShotSamples, humanEvalFile, testDataDir } from "./fixtures/datasets.js";
import { ReferenceHarnessSandbox, sharedReferenceVerdicts } from "./fixtures/reference-oracle.js";
import { runEvaluateCli } from "./fixtures/run-evaluate.js";
import { enterOfflineWorkDir } from "./helpers/offline-work-dir.js";

// The pipeline runs against a test-only sandbox that executes programs with local python3 under
// the reference harness's semantics; the Docker end-to-end run lives in evaluate-docker.test.ts.

let tasks: Task[];
let work: string;
let restoreEnv: () => void;

beforeAll(async () => {
  tasks = await loadSuiteFile(humanEvalFile, "humaneval");
  ({ dir: work, restore: restoreEnv } = enterOfflineWorkDir("koderz-evaluate-"));
});
afterAll(() => restoreEnv());

function samplesFile(name: string, lines: object[]): string {
  const file = path.join(work, name);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return file;
}

function readResults(file: string): Record<string, unknown>[] {
  return readFileSync(`${file}_results.jsonl`, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("koderz evaluate", () => {
  it("scores the canonical solutions pass@1 = 1 and writes results in the reference format, in input order", async () => {
    const lines = tasks.map((t) => ({ task_id: t.id, completion: t.canonicalSolution }));
    const file = samplesFile("canonical.jsonl", lines);
    const run = await runEvaluateCli([file], new ReferenceHarnessSandbox());
    expect(run.error).toBeUndefined();
    expect(run.stdout).toBe("pass@1: 1.0000\n");
    expect(run.stderr).toContain("164 of 164 samples passed");
    expect(run.stderr).toContain("not reported: pass@10, pass@100");
    const results = readResults(file);
    expect(results).toEqual(lines.map((line) => ({ ...line, result: "passed", passed: true })));
    expect(existsSync(`${file}_results.jsonl.partial`)).toBe(false);

    // Byte for byte what Python's json.dumps writes, as the reference harness's write_jsonl does.
    const firstLine = readFileSync(`${file}_results.jsonl`, "utf8").split("\n")[0]!;
    const python = execFileSync("python3", ["-c", "import json,sys; print(json.dumps(json.loads(sys.stdin.read())))"], { input: firstLine }).toString().trim();
    expect(firstLine).toBe(python);
  });

  it("prints pass@k as JSON with --json", async () => {
    const chosen = tasks.slice(0, 3);
    const file = samplesFile("json.jsonl", [...chosen.map((t) => ({ task_id: t.id, completion: t.canonicalSolution })), { task_id: chosen[0]!.id, completion: "    return None\n" }]);
    const run = await runEvaluateCli([file, "--json", "--allow-partial"], new ReferenceHarnessSandbox());
    expect(JSON.parse(run.stdout)).toMatchObject({ schemaVersion: 1, samples: 4, passed: 3, problems: 3, passAtK: { "pass@1": (0.5 + 1 + 1) / 3 }, runId: null });
  });

  it("gives the reference harness's verdict for every third GPT-4 zero-shot sample", async () => {
    // A third of the file, every third line: the CLI's path from samples to verdicts. The Docker
    // sandbox's own agreement on all 328 samples is in evaluate-docker.test.ts.
    const file = path.join(work, "gpt4-zero-shot.samples.jsonl");
    const lines = readFileSync(gpt4ZeroShotSamples, "utf8").trim().split("\n");
    writeFileSync(file, lines.filter((_, i) => i % 3 === 0).join("\n") + "\n");
    const run = await runEvaluateCli([file, "--json", "--allow-partial"], new ReferenceHarnessSandbox());
    expect(run.error).toBeUndefined();

    const samples = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; completion: string });
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const oracle = await sharedReferenceVerdicts(samples.map((s, i) => ({ id: String(i), source: referenceProgram(byId.get(s.task_id)!, s.completion), timeoutSeconds: 3 })));
    const expected = new Map(oracle.map((v) => [Number(v.id), v]));
    const results = readResults(file);
    expect(results).toHaveLength(samples.length);
    results.forEach((result, i) => {
      expect(result.task_id).toBe(samples[i]!.task_id);
      expect(result.passed, `${samples[i]!.task_id}: ${String(result.result)}`).toBe(expected.get(i)!.passed);
    });
    const passAt1 = (JSON.parse(run.stdout) as { passAtK: Record<string, number> }).passAtK["pass@1"]!;
    console.log(`GPT-4 zero-shot pass@1 (local reference-semantics test sandbox): ${passAt1.toFixed(4)}`);
    expect(passAt1).toBeCloseTo(oracle.filter((v) => v.passed).length / samples.length, 12);
  });

  it("estimates pass@k from several samples per problem, and leaves out a k larger than the samples", async () => {
    const chosen = tasks.slice(0, 4);
    const wrong = "    return None\n";
    const lines = chosen.flatMap((t) => [t.canonicalSolution, wrong, t.canonicalSolution].map((completion) => ({ task_id: t.id, completion })));
    const file = samplesFile("three-each.jsonl", lines);
    const run = await runEvaluateCli([file, "--allow-partial", "--k", "1,2,5", "--json"], new ReferenceHarnessSandbox());
    const result = (JSON.parse(run.stdout) as { passAtK: Record<string, number> }).passAtK;
    expect(result["pass@1"]).toBeCloseTo(2 / 3, 12);
    expect(result["pass@2"]).toBeCloseTo(1, 12); // 1 - C(1,2)/C(3,2)
    expect(result).not.toHaveProperty("pass@5");
    expect(readResults(file).map((r) => r.passed)).toEqual(lines.map((l) => l.completion !== wrong));
  });

  it("accepts EvalPlus-style {task_id, solution} lines (a whole program, prompt included)", async () => {
    const file = samplesFile("solutions.jsonl", tasks.slice(0, 3).map((t) => ({ task_id: t.id, solution: t.prompt + t.canonicalSolution })));
    const run = await runEvaluateCli([file, "--allow-partial"], new ReferenceHarnessSandbox());
    expect(run.stdout).toBe("pass@1: 1.0000\n");
  });

  describe("errors a user can act on", () => {
    it("a malformed line names the file and line", async () => {
      const file = path.join(work, "malformed.jsonl");
      writeFileSync(file, `${JSON.stringify({ task_id: "HumanEval/0", completion: "" })}\n{"task_id": "HumanEval/1", "completion": \n`);
      const run = await runEvaluateCli([file], new ReferenceHarnessSandbox());
      expect(run.error?.code).toBe("bad_input");
      expect(run.error?.message).toContain(`${file}:2: not valid JSON`);
    });

    it("a line without a completion names the line and the field it needs", async () => {
      const file = samplesFile("no-completion.jsonl", [{ task_id: "HumanEval/0", completion: "" }, { task_id: "HumanEval/1", text: "x" }]);
      const run = await runEvaluateCli([file], new ReferenceHarnessSandbox());
      expect(run.error?.message).toContain(`${file}:2:`);
      expect(run.error?.message).toContain('needs a "completion" (or "solution") string');
    });

    it("an unknown task id names the line", async () => {
      const file = samplesFile("unknown.jsonl", [{ task_id: "HumanEval/0", completion: "" }, { task_id: "HumanEval/0", completion: "" }, { task_id: "HumanEval/999", completion: "" }]);
      const run = await runEvaluateCli([file], new ReferenceHarnessSandbox());
      expect(run.error?.message).toContain(`${file}:3: unknown task_id "HumanEval/999" (not a problem of HumanEval)`);
    });

    it("problems without samples are refused unless --allow-partial, as the reference harness refuses", async () => {
      const file = samplesFile("partial.jsonl", tasks.slice(0, 2).map((t) => ({ task_id: t.id, completion: t.canonicalSolution })));
      const refused = await runEvaluateCli([file], new ReferenceHarnessSandbox());
      expect(refused.error?.message).toContain("162 of 164 problems have no sample");
      expect(refused.error?.message).toContain("HumanEval/2, HumanEval/3");
      expect(refused.error?.hint).toContain("--allow-partial");
      const allowed = await runEvaluateCli([file, "--allow-partial"], new ReferenceHarnessSandbox());
      expect(allowed.stdout).toBe("pass@1: 1.0000\n");
      expect(allowed.stderr).toContain("on 2 problems");
    });

    it("bad flags are usage errors (exit code 2) naming the flag", async () => {
      const file = samplesFile("flags.jsonl", [{ task_id: "HumanEval/0", completion: "" }]);
      for (const [flag, value] of [["--k", "1,x"], ["--timeout", "-1"], ["--workers", "0"], ["--sandbox", "vm"]]) {
        const run = await runEvaluateCli([file, flag!, value!], new ReferenceHarnessSandbox());
        expect(run.error?.exitCode, `${flag} ${value}`).toBe(2);
        expect(run.error?.message).toContain(flag);
      }
    });

    it("a missing samples file says so", async () => {
      const run = await runEvaluateCli([path.join(work, "nope.jsonl")], new ReferenceHarnessSandbox());
      expect(run.error?.code).toBe("not_found");
      expect(run.error?.message).toContain("nope.jsonl does not exist");
    });
  });

  it("on Ctrl-C writes what finished, says what is missing, and a re-run resumes with only the rest", async () => {
    const lines = tasks.map((t) => ({ task_id: t.id, completion: t.canonicalSolution }));
    const file = samplesFile("interrupted.jsonl", lines);

    /** Sends SIGINT to the process after 40 verdicts, as a user's Ctrl-C would. */
    class CtrlCAfterForty extends ReferenceHarnessSandbox {
      override run(programs: Program[], options: RunOptions = {}): Promise<Verdict[]> {
        let seen = 0;
        return super.run(programs, {
          ...options,
          onVerdict: (verdict) => {
            options.onVerdict?.(verdict);
            if (++seen === 40) process.emit("SIGINT");
          },
        });
      }
    }
    const first = await runEvaluateCli([file], new CtrlCAfterForty());
    expect(first.exitCode).toBe(130); // as `benchmark` exits on Ctrl-C
    expect(first.error).toBeUndefined();
    expect(first.stderr).toContain("interrupted: finishing the programs already running");
    const written = readResults(file);
    const done = written.length;
    expect(done).toBeGreaterThanOrEqual(40);
    expect(done).toBeLessThan(164);
    expect(first.stderr).toContain(`interrupted: ${done} of 164 samples evaluated and written to ${file}_results.jsonl; ${164 - done} missing`);
    // The finished lines, in input order, in the reference format.
    const order = new Map(lines.map((line, i) => [line.task_id, i]));
    expect(written.map((r) => order.get(r.task_id as string)!)).toEqual([...written.map((r) => order.get(r.task_id as string)!)].sort((a, b) => a - b));
    expect(written.every((r) => r.result === "passed" && r.passed === true)).toBe(true);

    // As after a kill -9 mid-write: no results file, a torn last journal line. Still resumable.
    rmSync(`${file}_results.jsonl`);
    appendFileSync(`${file}_results.jsonl.partial`, '{"line": 16');
    const resumedSandbox = new ReferenceHarnessSandbox();
    const second = await runEvaluateCli([file], resumedSandbox);
    expect(second.error).toBeUndefined();
    expect(second.stderr).toContain(`resuming: ${done} of 164 lines were evaluated by an earlier run`);
    expect(resumedSandbox.batches).toEqual([164 - done]);
    expect(second.stdout).toBe("pass@1: 1.0000\n");
    expect(readResults(file)).toEqual(lines.map((line) => ({ ...line, result: "passed", passed: true })));
  });

  it("starts over instead of resuming when the settings changed (here --timeout)", async () => {
    const lines = tasks.slice(0, 3).map((t) => ({ task_id: t.id, completion: t.canonicalSolution }));
    const file = samplesFile("changed.jsonl", lines);
    writeFileSync(`${file}_results.jsonl.partial`, '{"koderzEvaluate":"other settings"}\n{"line":1,"result":"failed: stale","passed":false}\n');
    const sandbox = new ReferenceHarnessSandbox();
    const run = await runEvaluateCli([file, "--allow-partial", "--timeout", "5"], sandbox);
    expect(run.stderr).not.toContain("resuming");
    expect(run.stderr).toContain("starting over: the settings changed since the earlier run");
    expect(run.stderr).toContain("its 1 verdict in");
    expect(sandbox.batches).toEqual([3]);
    expect(run.stdout).toBe("pass@1: 1.0000\n");
  });

  it("--sanitize extracts code from chat answers; without it they are judged as written, like the reference", async () => {
    const chosen = tasks.slice(0, 5);
    const chat = (t: Task) => `Here is my solution:\n\n\`\`\`python\n${t.prompt}${t.canonicalSolution}\n\`\`\`\n\nExample:\n\`\`\`python\nprint(${t.entryPoint}())\n\`\`\``;
    const file = samplesFile("chat.jsonl", chosen.map((t) => ({ task_id: t.id, completion: chat(t) })));
    const raw = await runEvaluateCli([file, "--allow-partial"], new ReferenceHarnessSandbox());
    expect(raw.stdout).toBe("pass@1: 0.0000\n");
    const sanitized = await runEvaluateCli([file, "--allow-partial", "--sanitize"], new ReferenceHarnessSandbox());
    expect(sanitized.stdout).toBe("pass@1: 1.0000\n");
    // The results file keeps the samples as given.
    expect(readResults(file).map((r) => r.completion)).toEqual(chosen.map(chat));
  });

  it("HumanEval+ gets per-task limits scaled from the canonical run time: a heavy task and the corrected HumanEval/32 pass", async () => {
    // HumanEval/83's canonical program needs seconds here, well over a 0.5 s floor: it runs
    // out of it, its canonical solution is measured, and it passes under the scaled limit. Only tasks
    // with a program over the floor are measured (HumanEval/0 and /32 are quick, unless the
    // machine is very busy). HumanEval/32's published test needs the loader's erratum.
    const plus = await loadSuiteFile(path.join(testDataDir, "HumanEvalPlus-OriginFmt.jsonl.gz"), "humaneval+");
    const chosen = plus.filter((t) => ["HumanEval/0", "HumanEval/32", "HumanEval/83"].includes(t.id));
    const file = samplesFile("plus.jsonl", chosen.map((t) => ({ task_id: t.id, completion: t.canonicalSolution })));
    const run = await runEvaluateCli([file, "--dataset", "humaneval+", "--allow-partial", "--timeout", "0.5"], new ReferenceHarnessSandbox());
    expect(run.error).toBeUndefined();
    expect(run.stderr).toMatch(/measuring [1-3] canonical solution\(s\) in the process sandbox/);
    expect(run.stdout).toBe("pass@1: 1.0000\n");
    // Cached per sandbox and runner version: a new runner measures afresh.
    expect(readdirSync(path.join(process.env.KODERZ_CACHE_DIR!, "time-limits")).filter((name) => /^process-[0-9a-f]{12}\.json$/.test(name))).toHaveLength(1);
  }, 300_000);
});
