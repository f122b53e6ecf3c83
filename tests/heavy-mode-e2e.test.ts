import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/index.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { type ReceivedChat, type ScriptedModelServer, type ScriptedReply } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, singleRunSummary, TEAM_ENV as env, startModelWorkDir } from "./fixtures/team-workdir.js";

// `koderz benchmark 0 3 --mode deep --trajectories 3` end to end through the scripted model server
// (its answers are fixtures, never a model's result), the process sandbox and the SQLite store; then
// what `results show` and the summary JSON say about the drafts and the final code. The script:
//   HumanEval/0: three identical right drafts (they converge);
//   HumanEval/1: draft 0 wrong, drafts 1 and 2 right (best-of-K beats the first draft);
//   HumanEval/2: three wrong drafts, two different wrong answers, a Debugger that stays wrong,
//                and a right hybrid (gain 1 over the best draft's visible pass fraction 0).
// Each draft's and the hybrid's hidden-test verdict, taken after the run, says the same.

let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;
let runId: string;

function fenced(code: string): string {
  return "```python\n" + code + "\n```";
}

function script(chat: ReceivedChat): ScriptedReply {
  const role = /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
  const task = tasks.find((t) => new RegExp(`def ${t.entryPoint}\\(`).test(chat.prompt));
  if (!task) return { text: "I cannot tell which problem this is." };
  const right = fenced(task.prompt + task.canonicalSolution);
  const wrong = (value: string) => fenced(`${task.prompt}    return ${value}\n`);
  const index = Number(task.id.split("/")[1]);
  switch (role) {
    case "Planner":
      return { text: "1. Do what the docstring says." };
    case "Tester":
      return { text: fenced(task.visibleExamples.map((e) => `assert ${e.call} == ${e.expected}`).join("\n")) };
    case "Reviewer":
      return { text: "ACCEPT\nFine." };
    case "Debugger":
      return { text: index === 2 ? wrong("None") : right };
    case "Coder":
      if (chat.prompt.includes("Two candidates passed the most tests")) return { text: right };
      if (index === 0) return { text: right };
      if (index === 1) return { text: chat.seed === 0 ? wrong("None") : right };
      return { text: wrong(chat.seed === 1 ? "0.0" : "None") };
    default:
      return { text: "unexpected role" };
  }
}

beforeAll(async () => {
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 3);
  ({ server, workDir } = await startModelWorkDir({ script, tempPrefix: "koderz-heavy-" }));
});

afterAll(async () => {
  await server?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("koderz benchmark --mode deep, then results show", () => {
  it("measures the drafts and the final code, and reports them in the summary JSON and results show", async () => {
    const result = await koderz(["benchmark", "0", "3", "--mode", "deep", "--trajectories", "3", "--sandbox", "process"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    runId = benchmarkRunIdFrom(result.stderr);
    const summary = singleRunSummary(workDir, runId);

    expect(summary.results.map((r) => r.success)).toEqual([true, true, true]);
    expect(summary.heavyMode).toMatchObject({
      experiments: 3,
      meanDrafts: 3,
      codeConvergenceRate: expect.closeTo(1 / 3, 6),
      behaviourMeasured: 3,
      // Only HumanEval/0's drafts return the same on every generated input.
      behaviourConvergenceRate: expect.closeTo(1 / 3, 6),
      bestOfKBeatsFirstRate: expect.closeTo(1 / 3, 6),
      hybridRuns: 1,
      meanHybridGain: 1,
      // The same by each draft's and the hybrid's hidden-test verdict, taken after the run.
      verdictsMeasured: 3,
      verdictBestOfKBeatsFirstRate: expect.closeTo(1 / 3, 6),
      verdictHybridGain: 1,
    });
    expect(summary.heavyMode!.meanBehaviourAgreement!).toBeLessThan(1);
    expect(summary.codeQuality).toMatchObject({ measured: 3 });
    for (const row of summary.results) {
      expect(row.cyclomaticComplexity, row.problemId).toBeGreaterThanOrEqual(1);
      expect(row.maintainabilityIndex, row.problemId).toBeGreaterThan(0);
    }
    // truncate_number's reference solution is one return: complexity 1.
    expect(summary.results[2]!.cyclomaticComplexity).toBe(1);

    const shown = await koderz(["results", "show", runId], { cwd: workDir, env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/problem\s+success\s+CC\s+MI/);
    expect(shown.stdout).toContain("heavy mode: 3 problems with drafts, 3.0 drafts each");
    expect(shown.stdout).toMatch(/best of K beats the first draft\s+33\.3%/);
    expect(shown.stdout).toMatch(/hybrid gain over the best draft\s+\+1\.00/);
    expect(shown.stdout).toMatch(/by the final verdict\s+33\.3% of 3: some draft passes where the first fails/);
    expect(shown.stdout).toMatch(/hybrid's gain by it\s+\+1\.00 verdicts/);
    expect(shown.stdout).toMatch(/code quality: 3 final programs measured/);

    const json = await koderz(["results", "show", runId, "--json"], { cwd: workDir, env });
    const parsed = JSON.parse(json.stdout) as { quality: { arm: string; heavyMode: unknown }[]; experiments: { cyclomaticComplexity: number | null }[] };
    expect(parsed.quality[0]!.heavyMode).toEqual(summary.heavyMode);
    expect(parsed.experiments.map((e) => e.cyclomaticComplexity)).toEqual(summary.results.map((r) => r.cyclomaticComplexity));
  });

  it("results measure gives a run recorded without measures the same figures the run took itself", async () => {
    const db = path.join(workDir, "results", "koderz.db");
    const store = openStore({ path: db });
    const taken = new Map(store.experiments(runId).map((e) => [e.experimentId, e.measures]));
    for (const id of taken.keys()) store.setMeasures(id, {});
    store.close();
    rmSync(path.join(workDir, "results", `${runId}.json`));

    const before = await koderz(["results", "show", runId], { cwd: workDir, env });
    expect(before.stdout).not.toContain("code quality:");
    expect(before.stdout).toMatch(/drafts' behaviour on generated inputs\s+not measured/);
    // Read from the stored steps alone: the same as when measured.
    expect(before.stdout).toMatch(/best of K beats the first draft\s+33\.3%/);

    const measured = await koderz(["results", "measure", runId, "--sandbox", "process"], { cwd: workDir, env });
    expect(measured.exitCode, measured.stderr).toBe(0);
    expect(measured.stderr).toContain("measured 3/3");
    expect(measured.stdout).toContain("code quality: 3 final programs measured");
    expect(singleRunSummary(workDir, runId).codeQuality).toMatchObject({ measured: 3 });
    const again = openStore({ path: db, readOnly: true });
    try {
      for (const e of again.experiments(runId)) expect(e.measures, e.problemId).toEqual(taken.get(e.experimentId));
    } finally {
      again.close();
    }
  });

  it("results measure refuses a run that names no suite, before opening a sandbox", async () => {
    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    store.createRun({ runId: "bench_00000bad_20250101_000000", kind: "import", mode: "imported", startTime: "2025-01-01T00:00:00Z", config: {}, tags: [], status: "finished" });
    store.close();
    const result = await koderz(["results", "measure", "bench_00000bad_20250101_000000"], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("names no suite");
  });
});
