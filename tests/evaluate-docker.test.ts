import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSandbox } from "../sandbox/select.js";
import { referenceProgram } from "../src/evaluation/program.js";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { gpt4ReflexionSamples, gpt4ZeroShotSamples, humanEvalFile, humanEvalPlusFile } from "./fixtures/datasets.js";
import { sharedReferenceVerdicts } from "./fixtures/reference-oracle.js";
import { runEvaluateCli } from "./fixtures/run-evaluate.js";
import { enterOfflineWorkDir } from "./helpers/offline-work-dir.js";

// `koderz evaluate` end to end in the real Docker sandbox (CI starts the engine and builds the
// image). The expected verdicts are never written down: they come from running the same samples
// through tests/fixtures/reference_harness.py, the reference harness's semantics, locally.

let work: string;
let restoreEnv: () => void;

beforeAll(() => {
  ({ dir: work, restore: restoreEnv } = enterOfflineWorkDir("koderz-evaluate-docker-"));
});
afterAll(() => restoreEnv());

const docker = () => openSandbox("docker", { onNotice: () => undefined });

function canonicalSamples(tasks: Task[], name: string): string {
  const file = path.join(work, name);
  writeFileSync(file, tasks.map((t) => JSON.stringify({ task_id: t.id, completion: t.canonicalSolution })).join("\n") + "\n");
  return file;
}

describe("koderz evaluate in the Docker sandbox", () => {
  it("scores the 164 canonical HumanEval solutions pass@1 = 1.0", async () => {
    const tasks = await loadSuiteFile(humanEvalFile, "humaneval");
    const run = await runEvaluateCli([canonicalSamples(tasks, "canonical.jsonl"), "--sandbox", "docker", "--json"], await docker());
    expect(run.error).toBeUndefined();
    expect((JSON.parse(run.stdout) as { passAtK: unknown }).passAtK).toEqual({ "pass@1": 1 });
  });

  for (const [name, samplesFile] of [
    ["zero-shot", gpt4ZeroShotSamples],
    ["reflexion", gpt4ReflexionSamples],
  ] as const) {
    it(`gives the reference harness's verdict on every GPT-4 ${name} sample`, async () => {
      const tasks = new Map((await loadSuiteFile(humanEvalFile, "humaneval")).map((t) => [t.id, t]));
      const file = path.join(work, path.basename(samplesFile));
      copyFileSync(samplesFile, file);
      const run = await runEvaluateCli([file, "--sandbox", "docker", "--json"], await docker());
      expect(run.error).toBeUndefined();

      const samples = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; completion: string });
      const oracle = await sharedReferenceVerdicts(samples.map((s, i) => ({ id: String(i), source: referenceProgram(tasks.get(s.task_id)!, s.completion), timeoutSeconds: 3 })));
      const reference = new Map(oracle.map((v) => [Number(v.id), v]));
      const results = readFileSync(`${file}_results.jsonl`, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; result: string; passed: boolean });

      const disagreements = results
        .map((r, i) => ({ task: r.task_id, docker: r.result, reference: reference.get(i)!.result, same: r.passed === reference.get(i)!.passed }))
        .filter((d) => !d.same);
      const passAt1 = (JSON.parse(run.stdout) as { passAtK: Record<string, number> }).passAtK["pass@1"]!;
      console.log(`GPT-4 ${name}: pass@1 in Docker ${passAt1.toFixed(4)}; reference harness ${(oracle.filter((v) => v.passed).length / samples.length).toFixed(4)}; ${samples.length - disagreements.length}/${samples.length} verdicts agree`);
      expect(disagreements).toEqual([]);
    }, 300_000);
  }

  it("passes the canonical HumanEval+ solutions with time limits scaled from their own run time", async () => {
    // All but the three heaviest: their canonical programs take 8-21 s here, and with a fresh
    // time-limit cache each runs three times (out of the 3 s floor, measured, judged): over a minute
    // of the suite's time. HumanEval/83 (3-4 s) still goes over the floor and is measured;
    // `npm run bench:harness` runs all 164.
    const heaviest = new Set(["HumanEval/15", "HumanEval/130", "HumanEval/139"]);
    const tasks = (await loadSuiteFile(humanEvalPlusFile, "humaneval+")).filter((task) => !heaviest.has(task.id));
    const run = await runEvaluateCli([canonicalSamples(tasks, "canonical-plus.jsonl"), "--dataset", "humaneval+", "--allow-partial", "--sandbox", "docker", "--json"], await docker());
    expect(run.error).toBeUndefined();
    const failures = readFileSync(path.join(work, "canonical-plus.jsonl_results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { task_id: string; result: string; passed: boolean })
      .filter((r) => !r.passed);
    expect(failures).toEqual([]);
    expect((JSON.parse(run.stdout) as { passAtK: unknown }).passAtK).toEqual({ "pass@1": 1 });
  }, 900_000);
});
