import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODE_RULES, type Mode } from "../policy/actions.js";
import { loadPolicy, parsePolicyFile } from "../policy/policy-file.js";
import { openStore, type SingleRunSummary } from "../src/store/index.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import { publicView, type Task } from "../tasks/task.js";
import { replayLogFromStore } from "../training/replay-log.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { benchmarkRunIdFrom as runIdFrom, singleRunSummary, startTeamWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// `koderz benchmark 0 3 --mode auto --policy FILE` end to end: a policy trained by
// `koderz train-meta` on the synthetic environment decides each task's mode and agents; the
// scripted model server plays the agent team (its answers are fixtures, not model results);
// the Docker sandbox runs the tests; the SQLite store keeps the run.
const WRONG_FIRST = new Set(["HumanEval/1"]);

let server: ScriptedModelServer;
let tasks: Task[];
let workDir: string;
let policyFile: string;

beforeAll(async () => {
  tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 3);
  ({ server, workDir } = await startTeamWorkDir(tasks, { wrongFirst: WRONG_FIRST, tempPrefix: "koderz-auto-" }));
  policyFile = path.join(workDir, "policy.json");
  const trained = await koderz(["train-meta", "--episodes", "3000", "--eval-episodes", "200", "--checkpoint-every", "0", "--seed", "3", "--out", policyFile], { cwd: workDir, env });
  expect(trained.exitCode, trained.stderr).toBe(0);
});

afterAll(async () => {
  await server?.close();
});

function summaryOf(runId: string): SingleRunSummary {
  return singleRunSummary(workDir, runId);
}

function withStore<T>(use: (store: ReturnType<typeof openStore>) => T): T {
  const store = openStore({ path: path.join(workDir, "results", "koderz.db") });
  try {
    return use(store);
  } finally {
    store.close();
  }
}

describe("koderz benchmark --mode auto --policy FILE", () => {
  let runId: string;

  it("lets the policy pick each task's mode and agents, and records them like any run", async () => {
    const result = await koderz(["benchmark", "0", "3", "--mode", "auto", "--policy", policyFile], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    runId = runIdFrom(result.stderr);
    expect(result.stdout).toContain("auto");

    const summary = summaryOf(runId);
    expect(summary.mode).toBe("auto");
    expect(summary.results.map((r) => r.problemId)).toEqual(tasks.map((t) => t.id));

    // What the policy says for these tasks, asked directly.
    const { policy } = await loadPolicy(policyFile);
    const expected = new Map(tasks.map((task) => [task.id, policy.chooseMode(publicView(task))]));
    policy.dispose();

    const counts: Record<Mode, number> = { fast: 0, standard: 0, deep: 0 };
    withStore((store) => {
      const run = store.getRun(runId);
      expect(run.config).toMatchObject({ mode: "auto", policyPath: policyFile, policySha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const experiments = store.experiments(runId);
      expect(experiments).toHaveLength(3);
      for (const experiment of experiments) {
        const mode = expected.get(experiment.problemId)!;
        counts[mode] += 1;
        expect(experiment.arm).toBe("auto");
        expect(experiment.tags).toContain(`chosen_mode:${mode}`);
        const steps = store.steps(experiment.experimentId);
        expect(steps.length).toBeGreaterThan(0);
        // Only agents the chosen mode allows ran (the Coder also stands in for a Debugger or Reviewer with no code yet).
        for (const step of steps) expect([...MODE_RULES[mode].allowedAgents, "Coder"]).toContain(step.agent);
        const coded = steps.filter((s) => s.code !== undefined);
        expect(coded.length).toBeGreaterThan(0);
        for (const step of coded) expect(step.visiblePassFraction).toBeTypeOf("number");
        expect(experiment.inputTokens + experiment.outputTokens).toBe(steps.reduce((n, s) => n + s.inputTokens + s.outputTokens, 0));
        // The final code's quality, measured in the sandbox as in the fixed modes.
        expect(experiment.measures?.code, experiment.problemId).toMatchObject({ cyclomatic: expect.any(Number), maintainability: expect.any(Number) });
      }
      // The replay environment reads an auto run's modes from its tags, so auto runs can train policies too.
      const replay = replayLogFromStore(store, [runId], (id) => tasks.find((t) => t.id === id));
      expect(replay.skipped).toEqual([]);
      expect(replay.log.map((entry) => [entry.task.id, entry.configurations[0]!.mode])).toEqual(tasks.map((t) => [t.id, expected.get(t.id)]));
    });
    expect(result.stderr).toContain(`auto: modes chosen by the policy: fast ${counts.fast}, standard ${counts.standard}, deep ${counts.deep}`);
  });

  it("replays an auto run with zero model calls and the same verdicts", async () => {
    const before = server.chatRequests.length;
    const result = await koderz(["benchmark", "--replay", runId], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.chatRequests.length).toBe(before);
    const replayed = summaryOf(runIdFrom(result.stderr));
    const original = summaryOf(runId);
    expect(replayed.results.map((r) => [r.problemId, r.success, r.iterations])).toEqual(original.results.map((r) => [r.problemId, r.success, r.iterations]));
  });

  it("with --learn, updates the policy after every task and saves it, and the run still completes", async () => {
    const learning = path.join(workDir, "learning.json");
    copyFileSync(policyFile, learning);
    const before = parsePolicyFile(readFileSync(learning, "utf8"), learning);

    const result = await koderz(["benchmark", "0", "3", "--mode", "auto", "--policy", learning, "--learn"], { cwd: workDir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`--learn: 3 policy update(s), saved to ${learning}`);
    const learnedRunId = runIdFrom(result.stderr);
    expect(summaryOf(learnedRunId).results).toHaveLength(3);

    const after = parsePolicyFile(readFileSync(learning, "utf8"), learning);
    if (before.kind !== "network" || after.kind !== "network") throw new Error("--learn keeps a network policy a network");
    const changed = [...before.weights.keys()].filter((name) => !before.weights.get(name)!.every((value, i) => value === after.weights.get(name)![i]));
    expect(changed.length).toBeGreaterThan(0);
    expect(after.training).toMatchObject({ env: "live", synthetic: false, episodes: before.training.episodes + 3 });
    expect(after.training.note).toContain(`3 online update(s), one per episode, from koderz benchmark --learn, run ${learnedRunId}`);
    expect(after.training.summary).toBeUndefined();
    // The updates went to the --policy file itself (the default); the file it was copied from is untouched.
    expect(readFileSync(policyFile, "utf8")).not.toBe(readFileSync(learning, "utf8"));
    expect(existsSync(`${learning}.${process.pid}.tmp`)).toBe(false);

    const replay = await koderz(["benchmark", "--replay", learnedRunId], { cwd: workDir, env });
    expect(replay.exitCode).toBe(2);
    expect(replay.stderr).toContain("learned online (--learn)");
  });
});

describe("koderz benchmark --mode auto with a bad policy", () => {
  it("refuses a corrupt policy file before the run starts, and records no run", async () => {
    const corrupt = path.join(workDir, "corrupt.json");
    writeFileSync(corrupt, readFileSync(policyFile, "utf8").slice(0, 500));
    const db = path.join(workDir, "corrupt.db");
    const result = await koderz(["benchmark", "0", "3", "--mode", "auto", "--policy", corrupt, "--db", db], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`policy file ${corrupt} is not valid JSON`);
    expect(result.stderr).toMatch(/fix: retrain it with `koderz train-meta/);
    const store = openStore({ path: db });
    try {
      expect(store.listRuns()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("asks for --policy, and for --mode auto with --learn, as usage errors", async () => {
    const noPolicy = await koderz(["benchmark", "0", "3", "--mode", "auto"], { cwd: workDir, env });
    expect(noPolicy.exitCode).toBe(2);
    expect(noPolicy.stderr).toContain("--mode auto needs a trained policy");
    const learnWithoutAuto = await koderz(["benchmark", "0", "3", "--mode", "fast", "--learn"], { cwd: workDir, env });
    expect(learnWithoutAuto.exitCode).toBe(2);
    expect(learnWithoutAuto.stderr).toContain("--learn trains the policy that --mode auto decides with");
  });
});
