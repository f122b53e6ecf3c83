import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, SingleRunSummarySchema } from "../src/store/index.js";
import { loadSuiteDefinition } from "../tasks/suite-file.js";
import type { Task } from "../tasks/task.js";
import { codingTeamScript } from "./fixtures/coding-team-script.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { type ReceivedChat, type ScriptedModelServer, type ScriptedReply } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom, TEAM_ENV as env, startModelWorkDir } from "./fixtures/team-workdir.js";
import { requireDockerSandbox } from "./helpers/docker.js";

// `koderz benchmark --suite coder-rubric --mode fast` end to end: the real binary, the real openai
// and ollama clients over HTTP to the scripted model server (its answers and the figures they
// produce are fixtures, never a model's result), the Docker sandbox (the concurrent-fetch case
// serves HTTP on its loopback) and the SQLite store.
//
// The scripted Coder answers each question with the suite's reference solution, except two it gets
// wrong; the scripted Judge gives every judged criterion 4/5, except on one case where it answers
// off the scale.
const WRONG = new Set(["coder-rubric/longest-palindrome", "coder-rubric/token-bucket"]);
const OFF_SCALE = "coder-rubric/ip-address";

let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;

function taskOf(chat: ReceivedChat): Task | undefined {
  return tasks.find((task) => new RegExp(`(def|class) ${task.entryPoint}\\b`).test(chat.prompt));
}

function script(chat: ReceivedChat): ScriptedReply {
  const role = /You are the (\w+)/.exec(chat.messages[0]?.content ?? "")?.[1];
  const task = taskOf(chat);
  if (!task) return { text: "I cannot tell which question this is." };
  if (role === "Coder") {
    const code = WRONG.has(task.id) ? `${task.prompt}    return None\n` : task.canonicalSolution;
    return { text: "```python\n" + code + "\n```" };
  }
  if (role === "Judge") {
    const asked = [...chat.prompt.matchAll(/^- ([^:\n]+): /gm)].map((m) => m[1]!);
    const score = task.id === OFF_SCALE ? 9 : 4;
    return { text: JSON.stringify({ criteria: asked.map((name) => ({ name, score, reason: "fixture" })) }) };
  }
  return { text: "unexpected role" };
}

beforeAll(async () => {
  await requireDockerSandbox();
  tasks = (await loadSuiteDefinition("coder-rubric")).tasks;
  ({ server, workDir } = await startModelWorkDir({ script, tempPrefix: "koderz-rubric-" }));
});

afterAll(async () => {
  await server?.close();
});

describe("koderz benchmark --suite coder-rubric --mode fast", () => {
  it("scores each case on its rubric, stores and costs the judge's calls, and prints tiers and a role", async () => {
    const result = await koderz(["benchmark", "--suite", "coder-rubric", "--mode", "fast", "--sandbox", "docker"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const runId = benchmarkRunIdFrom(result.stderr);
    const summary = SingleRunSummarySchema.parse(JSON.parse(readFileSync(path.join(workDir, "results", `${runId}.json`), "utf8")));

    const byProblem = new Map(summary.results.map((r) => [r.problemId, r]));
    expect(summary.results).toHaveLength(10);
    for (const task of tasks) {
      const row = byProblem.get(task.id)!;
      expect(row.tier, task.id).toBe(task.tier);
      expect(row.category, task.id).toBe(task.category);
      expect(row.score, task.id).toBeGreaterThanOrEqual(1);
      // Right answers score at least 4 (every check holds, the judge says 4/5); wrong ones fail.
      expect(row.success, task.id).toBe(!WRONG.has(task.id) && task.id !== OFF_SCALE);
      if (WRONG.has(task.id)) expect(row.score!, task.id).toBeLessThan(3);
    }
    // factorial: checks of weight 3 + 2 + 1 hold, the judge's 4/5 counts 0.75 of weight 1: 1 + 4 * 6.75 / 7.
    expect(byProblem.get("coder-rubric/factorial")!.score).toBeCloseTo(1 + (4 * 6.75) / 7, 2);
    // ip-address: the judge's 9 decides nothing (0 of weight 1) and the case cannot pass: 1 + 4 * 6 / 7.
    expect(byProblem.get(OFF_SCALE)!.score).toBeCloseTo(1 + (4 * 6) / 7, 2);

    expect(summary.byCategory!.map((c) => [c.name, c.totalProblems])).toEqual([
      ["coding", 9],
      ["debugging", 1],
    ]);
    expect(summary.byTier!.map((t) => [t.name, t.totalProblems, t.successes])).toEqual([
      ["T1", 3, 3],
      ["T2", 4, 2],
      ["T3", 3, 2],
    ]);
    expect(result.stdout).toContain("by category");
    expect(result.stdout).toContain("by tier");
    // T1's mean (4.86) clears 4.0 and T2's (two of four cases wrong) 3.5, but T2's falls short of coder_escalation's 4.0.
    expect(result.stdout).toMatch(/role for ollama:qwen3-coder:30b: coder_primary \(not met: architect_coding: T2 3\.\d\d < 4\.5; coder_escalation: T2 3\.\d\d < 4\)/);

    const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
    try {
      const experiments = store.experiments(runId);
      const offScale = experiments.find((e) => e.problemId === OFF_SCALE)!;
      expect(offScale.verdict).toContain("undecided: readability: the judge's answer does not fit the verdict format at criteria.0.score: must be 1 to 5");
      expect(offScale.scoreCriteria!.find((c) => c.by === "judge")!.error).toContain("must be 1 to 5");
      // The judge's calls are steps like any agent's, logged, and their dollars count in the experiment's cost.
      const steps = store.steps(offScale.experimentId);
      expect(steps.map((s) => [s.agent, s.action])).toEqual([
        ["Coder", "model"],
        ["koderz", "judge"],
      ]);
      expect(steps[1]!.model).toBe("kimi-k2");
      expect(steps[1]!.costUsd).toBeGreaterThan(0);
      expect(offScale.costUsd).toBeCloseTo(steps[0]!.costUsd + steps[1]!.costUsd, 10);
      const calls = store.modelCalls({ experimentId: offScale.experimentId });
      expect(calls.map((c) => c.model).sort()).toEqual(["kimi-k2", "ollama:qwen3-coder:30b"]);
    } finally {
      store.close();
    }

    const shown = await koderz(["results", "show", runId], { cwd: workDir, env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain("by tier");
    expect(shown.stdout).toContain("role for ollama:qwen3-coder:30b: coder_primary");
  }, 600_000);

  it("a fast run whose judge model does not answer stops before its first experiment, naming that model", async () => {
    // fast mode calls only the Coder's model; the judge (the Reviewer's seat, kimi-k2) is checked for the rubric.
    const dir = mkdtempSync(path.join(tmpdir(), "koderz-rubric-judge-"));
    writeFileSync(
      path.join(dir, "koderz.config.json"),
      JSON.stringify({ models: { "kimi-k2": { baseUrl: "http://127.0.0.1:9/v1", apiKeyEnv: "MOONSHOT_API_KEY" }, "ollama:qwen3-coder:30b": { baseUrl: server.ollamaHost } } }),
    );
    server.reset();
    const result = await koderz(["benchmark", "--suite", "coder-rubric", "--mode", "fast", "--sandbox", "process"], { cwd: dir, env });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/kimi-k2/);
    expect(server.chatRequests).toEqual([]);
    expect(result.stderr).not.toMatch(/run bench_/);
  });

  it("without --mode a suite runs with its solver's mode, and a suite run replays from the store with the same verdicts", async () => {
    const mixed = (await loadSuiteDefinition("mixed")).tasks.slice(0, 1);
    server.setScript(codingTeamScript(mixed, { wrongFirst: new Set() }));
    try {
      const first = await koderz(["benchmark", "--suite", "mixed", "0", "1", "--sandbox", "process"], { cwd: workDir, env });
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/run bench_\w+: standard on 1 problem/);
      const runId = benchmarkRunIdFrom(first.stderr);
      const replay = await koderz(["benchmark", "--replay", runId], { cwd: workDir, env });
      expect(replay.exitCode, replay.stderr).toBe(0);
      const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
      try {
        const [original] = store.experiments(runId);
        const [replayed] = store.experiments(benchmarkRunIdFrom(replay.stderr));
        expect(original).toMatchObject({ problemId: "mixed/knights-and-knaves", suite: "mixed", category: "reasoning", tier: "T1", success: true });
        expect(replayed).toMatchObject({ problemId: original!.problemId, suite: "mixed", success: original!.success, verdict: original!.verdict });
      } finally {
        store.close();
      }
    } finally {
      server.setScript(script);
    }
  }, 300_000);

  it("a bad suite file is one usage error (exit 2) naming the file, the case and the field", async () => {
    const file = path.join(workDir, "bad.yaml");
    writeFileSync(file, "name: bad\nscorer: match\ncases:\n  - id: q1\n    prompt: \"def a():\\n    pass\\n\"\n    entry_point: a\n    answer: 1\n    match: fuzzy\n");
    const result = await koderz(["benchmark", "--suite", file, "--mode", "fast"], { cwd: workDir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${file}: case "q1" (cases[0]), field match:`);
    expect(result.stderr.match(/error:/g)).toHaveLength(1);
  });
});
