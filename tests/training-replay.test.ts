import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Action, AgentChoice } from "../policy/actions.js";
import type { PublicTask } from "../tasks/task.js";
import { fixedModeController } from "../training/controllers.js";
import { compareControllers } from "../training/compare-controllers.js";
import { createReplayEnvironments, ReplayEnvironment } from "../training/replay-environment.js";
import { replayLogFromRecords, replayLogFromStore, replayLogSchema, splitReplayLogByTask, type ReplayLog } from "../training/replay-log.js";
import { openStore } from "../src/store/index.js";
import type { ExperimentRecord, StepRecord } from "../src/store/records.js";

const RUN = "bench_0123abcd_20250101_000000";
const tasks: PublicTask[] = [0, 1].map((i) => ({
  id: `HumanEval/${i}`,
  prompt: `def f${i}(x: int) -> int:\n    """ Return x plus ${i}.\n    >>> f${i}(1)\n    ${1 + i}\n    """\n`,
  entryPoint: `f${i}`,
  visibleExamples: [{ call: `f${i}(1)`, expected: String(1 + i) }],
}));

function experiment(arm: string, problem: number, success: boolean, finalCode: string): ExperimentRecord {
  return {
    experimentId: `exp_${arm}_${problem}`,
    runId: RUN,
    problemId: `HumanEval/${problem}`,
    arm,
    success,
    iterations: 1,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    wallSeconds: 1,
    finalCode,
    tags: [],
  };
}

/** A step as "<agent>" (a model call) or "<agent>:<tool>" (a tool call the agent made). */
type StepSketch = [step: string, tokens: number, costUsd: number, extra?: { code?: string; v?: number }];
function steps(experimentId: string, sketch: StepSketch[]): StepRecord[] {
  return sketch.map(([step, tokens, costUsd, extra], index) => ({
    experimentId,
    index,
    agent: step.split(":")[0]!,
    action: step.split(":")[1] ?? "model",
    code: extra?.code,
    visiblePassFraction: extra?.v,
    inputTokens: tokens - 100,
    outputTokens: 100,
    costUsd,
    latencyMs: 10,
  }));
}

/** A stored comparative run: fast and deep on two problems, plus an arm that maps to no mode. */
const experiments: ExperimentRecord[] = [
  experiment("fast", 0, true, "A"),
  experiment("deep", 0, true, "B2"),
  experiment("fast", 1, false, "C"),
  experiment("deep", 1, true, "D"),
  experiment("iterative", 1, true, "E"),
];
const stepRecords: Record<string, StepRecord[]> = {
  exp_fast_0: steps("exp_fast_0", [["Coder", 1500, 0.001, { code: "A", v: 1 }]]),
  exp_deep_0: steps("exp_deep_0", [
    ["Planner", 2000, 0.01],
    ["Coder", 3000, 0.02, { code: "B1", v: 0.5 }],
    ["Coder:python_exec", 100, 0], // a tool call: folded into the Coder step
    ["Tester", 1000, 0.005],
    ["Debugger", 2000, 0.01, { code: "B2", v: 1 }],
    ["Reviewer", 500, 0.004],
  ]),
  exp_fast_1: steps("exp_fast_1", [["Coder", 1200, 0.001, { code: "C", v: 0 }]]),
  exp_deep_1: steps("exp_deep_1", [
    ["Planner", 2000, 0.01],
    ["Coder", 3000, 0.02, { code: "D", v: 1 }],
    ["Reviewer", 500, 0.004],
  ]),
  exp_iterative_1: steps("exp_iterative_1", [["Coder", 1000, 0.001, { code: "E", v: 1 }]]),
};

const taskFor = (id: string) => tasks.find((t) => t.id === id);
const converted = replayLogFromRecords({ experiments, stepsOf: (id) => stepRecords[id] ?? [], taskFor });
const agentAction = (agent: AgentChoice): Action => ({ kind: "agent", agent });

describe("replay log from stored-run records", () => {
  it("groups configurations by task, maps arms to modes and skips unmapped arms", () => {
    const { log, skipped } = converted;
    expect(replayLogSchema.parse(log)).toEqual(log);
    expect(log.map((t) => t.task.id)).toEqual(["HumanEval/0", "HumanEval/1"]);
    expect(log[0]!.configurations.map((c) => [c.mode, c.success])).toEqual([["fast", true], ["deep", true]]);
    expect(skipped).toEqual([expect.objectContaining({ arm: "iterative", reason: 'arm "iterative" is not mapped to a mode' })]);
    const iterativeAsStandard = replayLogFromRecords({ experiments, stepsOf: (id) => stepRecords[id] ?? [], taskFor, armModes: { iterative: "standard" } });
    expect(iterativeAsStandard.log[1]!.configurations.map((c) => c.mode)).toEqual(["fast", "deep", "standard"]);
  });

  it("keeps each step's agent, visible pass fraction, tokens and cost, folding tool calls into their agent", () => {
    const deep = converted.log[0]!.configurations[1]!;
    expect(deep.steps.map((s) => s.agent)).toEqual(["Planner", "Coder", "Tester", "Debugger", "Reviewer"]);
    expect(deep.steps[1]).toEqual({ agent: "Coder", visiblePassFraction: 0.5, tokens: 3100, costUsd: 0.02, hasFinalCode: false });
    expect(deep.steps.map((s) => s.hasFinalCode)).toEqual([false, false, false, true, true]);
  });
});

describe("ReplayEnvironment", () => {
  it("returns the logged outcomes when the logged run is followed", async () => {
    const env = new ReplayEnvironment({ log: converted.log, seed: 1 });
    const start = await env.reset();
    expect(start.task.id).toBe("HumanEval/0");
    expect(start.allowed).toEqual({ kind: "mode", modes: ["fast", "deep"] });

    const rewards: number[] = [(await env.step({ kind: "mode", mode: "deep" })).reward];
    let result;
    for (const agent of ["Planner", "Coder", "Tester", "Debugger", "Reviewer"] as const) {
      result = await env.step(agentAction(agent));
      rewards.push(result.reward);
      if (!result.done) expect(result.state.allowed).toMatchObject({ kind: "agent", agents: [expect.any(String), "Stop"] });
    }
    // progress (Δ logged visible pass fraction) − 0.001 per 1000 logged tokens, + 1 for the logged success
    const expected = [0, -0.002, 0.5 - 0.0031, -0.001, 0.5 - 0.002, -0.0005 + 1];
    rewards.forEach((reward, i) => expect(reward).toBeCloseTo(expected[i]!, 9));
    expect(result!.done).toBe(true);
    expect(result!.info.outcome).toMatchObject({
      source: "replay",
      taskId: "HumanEval/0",
      mode: "deep",
      agents: ["Planner", "Coder", "Tester", "Debugger", "Reviewer"],
      success: true,
      tokens: 8600,
    });
    expect(result!.info.outcome!.costUsd).toBeCloseTo(0.049, 9);
  });

  it("keeps the logged verdict on an early stop only when the code is already final", async () => {
    const playDeep = async (stopAfter: number) => {
      const env = new ReplayEnvironment({ log: converted.log, seed: 1 });
      await env.reset();
      await env.step({ kind: "mode", mode: "deep" });
      const agents = ["Planner", "Coder", "Tester", "Debugger", "Reviewer"] as const;
      for (let i = 0; i < stopAfter; i++) await env.step(agentAction(agents[i]!));
      return (await env.step(agentAction("Stop"))).info.outcome!;
    };
    expect((await playDeep(4)).success).toBe(true); // the Debugger wrote the final code; the Reviewer changed nothing
    expect((await playDeep(2)).success).toBe(false); // stopped on the Coder's first draft: verdict unknown
  });

  it("refuses actions the log cannot answer", async () => {
    const env = new ReplayEnvironment({ log: converted.log, seed: 1 });
    await env.reset();
    await expect(env.step({ kind: "mode", mode: "standard" })).rejects.toThrow(/no logged standard run/);
    await env.step({ kind: "mode", mode: "deep" });
    await expect(env.step(agentAction("Coder"))).rejects.toThrow(/only continue with Planner or Stop/);
  });

  it("scores the oracle as the best logged configuration and stopping point in hindsight", async () => {
    const comparison = await compareControllers([fixedModeController("fast"), fixedModeController("deep")], () => createReplayEnvironments(2, converted.log, 1), 1);
    const [fast, deep, oracle] = comparison.rows;
    // task 0: fast = 1 − 0.0015 + 1; task 1: fast fails (0 − 0.0012), deep = 1 − 0.0055 + 1
    expect(fast!.meanReturn).toBeCloseTo((1.9985 - 0.0012) / 2, 9);
    expect(deep!.meanReturn).toBeCloseTo((1.9914 + 1.9945) / 2, 9);
    expect(oracle!.name).toBe("oracle");
    expect(oracle!.meanReturn).toBeCloseTo((1.9985 + 1.9950) / 2, 9); // task 1: deep stopped before the Reviewer
    expect(oracle!.modeMix).toEqual({ fast: 0.5, standard: 0, deep: 0.5 });
  });

  it("splits by task for held-out evaluation, the same way for the same seed", () => {
    const many: ReplayLog = Array.from({ length: 10 }, (_, i) => ({ ...converted.log[0]!, task: { ...converted.log[0]!.task, id: `T/${i}` } }));
    const split = splitReplayLogByTask(many, 0.2, 3);
    expect(split.heldOut).toHaveLength(2);
    expect(split.training).toHaveLength(8);
    expect(new Set([...split.heldOut, ...split.training].map((t) => t.task.id)).size).toBe(10);
    expect(splitReplayLogByTask(many, 0.2, 3)).toEqual(split);
  });
});

describe("replay from the real store", () => {
  it("reads stored runs into the same replay log", async () => {
    const directory = await mkdtemp(path.join(tmpdir(), "koderz-replay-"));
    const store = openStore({ path: path.join(directory, "koderz.db") });
    try {
      store.createRun({ runId: RUN, kind: "benchmark", mode: "comparative", startTime: "2025-01-01T00:00:00Z", config: {}, tags: [], status: "finished" });
      for (const record of experiments) store.recordExperiment(record, stepRecords[record.experimentId]!);
      const fromStore = replayLogFromStore(store, [RUN], taskFor);
      const byTask = (log: ReplayLog) => [...log].sort((a, b) => a.task.id.localeCompare(b.task.id));
      const sortConfigs = (log: ReplayLog) => byTask(log).map((t) => ({ ...t, configurations: [...t.configurations].sort((a, b) => a.mode.localeCompare(b.mode)) }));
      expect(sortConfigs(fromStore.log)).toEqual(sortConfigs(converted.log));
      expect(fromStore.skipped.map((s) => s.arm)).toEqual(["iterative"]);
    } finally {
      store.close();
    }
  });
});
