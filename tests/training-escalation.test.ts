import { describe, expect, it } from "vitest";
import type { Action, AgentChoice, Mode } from "../policy/actions.js";
import { useBackend } from "../policy/backend.js";
import { MetaPolicy } from "../policy/meta-policy.js";
import type { Observation } from "../policy/observation.js";
import { cascadeController, fixedModeController, policyController, randomController, type Controller } from "../training/controllers.js";
import { compareControllers } from "../training/compare-controllers.js";
import { createReplayEnvironments, ReplayEnvironment, replayLadder } from "../training/replay-environment.js";
import type { ReplayLog, ReplayTask } from "../training/replay-log.js";
import { DEFAULT_REWARD_CONFIG, stepCostPenalty, type RewardConfig } from "../training/rewards.js";
import { trainMetaPolicy } from "../training/train.js";

/**
 * A scripted replay log (a fixture: no model ran). Two rungs per task: a cheap "fast" run
 * and a dear "deep" run, each one logged Coder step with its visible (docstring) pass
 * fraction, its dollars and its hidden verdict.
 */
interface Sketch {
  fast: { visible: number; success: boolean };
  deep: { visible: number; success: boolean };
}

const FAST_USD = 0.001;
const DEEP_USD = 0.05;

function task(i: number, sketch: Sketch): ReplayTask {
  // Task texts differ only in words unrelated to the outcome, so the text cannot tell which tasks the cheap rung solves.
  const word = ["apple", "river", "stone", "cloud", "maple"][i % 5]!;
  return {
    task: {
      id: `T/${i}`,
      prompt: `def f${i}(x: int) -> int:\n    """ Return x for the ${word} number ${i}.\n    >>> f${i}(1)\n    1\n    """\n`,
      entryPoint: `f${i}`,
      visibleExamples: [{ call: `f${i}(1)`, expected: "1" }],
    },
    configurations: (["fast", "deep"] as const).map((mode) => ({
      mode,
      success: sketch[mode].success,
      steps: [{ agent: "Coder" as const, visiblePassFraction: sketch[mode].visible, tokens: mode === "fast" ? 3000 : 2000, costUsd: mode === "fast" ? FAST_USD : DEEP_USD, hasFinalCode: true }],
    })),
  };
}

/** The cascade is optimal: the cheap rung solves exactly the tasks whose visible examples it passes; the dear rung solves every task. */
const cascadeLog: ReplayLog = Array.from({ length: 40 }, (_, i) => {
  const cheapSolves = (i * 7) % 10 < 6;
  return task(i, { fast: { visible: cheapSolves ? 1 : 0, success: cheapSolves }, deep: { visible: 1, success: true } });
});

const dollars: RewardConfig = { ...DEFAULT_REWARD_CONFIG, costPerUsd: 10 };
const act = (agent: AgentChoice): Action => ({ kind: "agent", agent });

describe("replay with escalation", () => {
  it("plays the logged arms as rungs, cheapest first, showing the cheap rung's visible result before the dear one is paid for", async () => {
    expect(replayLadder(cascadeLog)).toEqual(["fast", "deep"]);
    const env = new ReplayEnvironment({ log: [cascadeLog[1]!], seed: 1, rewards: dollars }); // task 1: the cheap rung fails
    const start = await env.reset();
    expect(start.allowed).toEqual({ kind: "mode", modes: ["fast", "deep"] });
    await env.step({ kind: "mode", mode: "fast" });
    const cheap = await env.step(act("Coder"));
    expect(cheap.done).toBe(false);
    expect(cheap.state.episode).toMatchObject({ visiblePassFraction: 0, visibleTestsRun: true, costUsd: FAST_USD, rung: 0, rungs: 2 });
    expect(cheap.state.allowed).toEqual({ kind: "agent", agents: ["Escalate", "Stop"] });
    // Rewards count dollars: the 3000-token cheap step costs 10 × $0.001, not λ per 1000 tokens.
    expect(cheap.reward).toBeCloseTo(-10 * FAST_USD, 9);

    const dear = await env.step(act("Escalate"));
    expect(dear.info).toMatchObject({ agent: "Coder", costUsd: DEEP_USD });
    expect(dear.reward).toBeCloseTo(1 - 10 * DEEP_USD + 1, 9); // visible 0 -> 1, the dear rung's cost, its logged success
    expect(dear.done).toBe(true); // the top rung's log is over: nothing left to do
    expect(dear.info.outcome).toMatchObject({ mode: "deep", agents: ["Coder", "Coder"], success: true, escalations: 1 });
    expect(dear.info.outcome!.costUsd).toBeCloseTo(FAST_USD + DEEP_USD, 9);
  });

  it("keeps the last rung's code and verdict on Stop", async () => {
    const env = new ReplayEnvironment({ log: [cascadeLog[1]!], seed: 1, rewards: dollars });
    await env.reset();
    await env.step({ kind: "mode", mode: "fast" });
    await env.step(act("Coder"));
    const stopped = await env.step(act("Stop"));
    expect(stopped.info.outcome).toMatchObject({ mode: "fast", success: false, escalations: 0 });
  });

  it("gives fixed-mode rows only for modes with logs: always-standard refuses a log without standard runs", async () => {
    await expect(compareControllers([fixedModeController("standard")], () => createReplayEnvironments(2, cascadeLog, 1, dollars), 1)).rejects.toThrow(
      /always-standard cannot play T\/0: no standard run is offered \(only fast, deep\)/,
    );
  });

  it("never lets a hidden verdict reach the policy's features", async () => {
    await useBackend("cpu");
    const policy = MetaPolicy.initialise(3);
    try {
      // The same log with every hidden verdict flipped: what the policy sees must not change at all.
      const flipped: ReplayLog = cascadeLog.map((t) => ({ ...t, configurations: t.configurations.map((c) => ({ ...c, success: !c.success })) }));
      const play = async (log: ReplayLog, controller: Controller) => {
        const seen: Float32Array[] = [];
        const recording: Controller = {
          name: controller.name,
          act: (observations: readonly Observation[]) => {
            for (const observation of observations) seen.push(policy.features(observation));
            return controller.act(observations);
          },
        };
        const comparison = await compareControllers([recording], () => createReplayEnvironments(log.length, log, 7, dollars), 1);
        return { seen, successRate: comparison.rows[0]!.successRate };
      };
      for (const make of [() => cascadeController(), () => randomController(11)]) {
        const original = await play(cascadeLog, make());
        const withFlipped = await play(flipped, make());
        expect(withFlipped.seen.length).toBe(original.seen.length);
        withFlipped.seen.forEach((vector, i) => expect(Array.from(vector)).toEqual(Array.from(original.seen[i]!)));
        expect(withFlipped.successRate).not.toBe(original.successRate); // the verdicts did change the outcomes
      }
    } finally {
      policy.dispose();
    }
  });

  it("learns the cascade when the cascade is optimal: cheap first, escalate only on a visible failure", async () => {
    await useBackend("cpu");
    const result = await trainMetaPolicy({
      episodes: 3000,
      seed: 5,
      makeEnvironments: (count) => createReplayEnvironments(count, cascadeLog, 5, dollars),
    });
    try {
      const comparison = await compareControllers(
        [policyController(result.policy), cascadeController(), fixedModeController("fast"), fixedModeController("deep")],
        () => createReplayEnvironments(cascadeLog.length, cascadeLog, 5, dollars),
        1,
      );
      const row = (name: string) => comparison.rows.find((r) => r.name === name)!;
      const learned = row("learned");
      const cascade = row("cascade");
      expect(cascade.successRate).toBe(1);
      expect(learned.successRate).toBe(1);
      expect(learned.meanCostUsd).toBeCloseTo(cascade.meanCostUsd, 9);
      expect(learned.meanReturn).toBeGreaterThan(row("always-deep").meanReturn);
      expect(learned.meanReturn).toBeGreaterThan(row("always-fast").meanReturn);
      // It starts cheap on every task: the policy picked fast, and escalated exactly where fast's examples failed.
      const firstModes = new Set<Mode>();
      const start = new ReplayEnvironment({ log: cascadeLog, seed: 5, rewards: dollars });
      for (let i = 0; i < cascadeLog.length; i++) firstModes.add(result.policy.chooseMode((await start.reset()).task, { allowedModes: ["fast", "deep"] }));
      expect([...firstModes]).toEqual(["fast"]);

      // The policy keeps a threshold: greedy decisions then escalate only that sure.
      result.policy.escalationThreshold = 1;
      const never = await compareControllers([policyController(result.policy)], () => createReplayEnvironments(cascadeLog.length, cascadeLog, 5, dollars), 1);
      expect(never.rows[0]!.successRate).toBeLessThan(1);
    } finally {
      result.policy.dispose();
    }
  }, 120_000);
});

describe("dollar rewards", () => {
  it("charge a model that is 60x cheaper per token less, even when it writes three times more", () => {
    const cheapButWordy = { tokens: 3000, costUsd: 3000 * (0.1 / 1e6) };
    const dearButTerse = { tokens: 1000, costUsd: 1000 * (6 / 1e6) };
    expect(stepCostPenalty(cheapButWordy, dollars)).toBeLessThan(stepCostPenalty(dearButTerse, dollars));
    // Without prices (no costPerUsd) tokens are all there is, and the wordy model looks dearer.
    expect(stepCostPenalty(cheapButWordy, DEFAULT_REWARD_CONFIG)).toBeGreaterThan(stepCostPenalty(dearButTerse, DEFAULT_REWARD_CONFIG));
  });
});
