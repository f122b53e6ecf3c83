import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useBackend } from "../policy/backend.js";
import { ladderStateFeatures } from "../policy/features.js";
import { loadPolicy, parsePolicyFile } from "../policy/policy-file.js";
import { HAND_CASCADE, RulePolicy } from "../policy/rule-policy.js";
import { compareControllers } from "../training/compare-controllers.js";
import { createReplayEnvironments, ReplayEnvironment } from "../training/replay-environment.js";
import type { ReplayLog, ReplayTask } from "../training/replay-log.js";
import { routerController, ruleCandidates, selectRouter } from "../training/router-selection.js";
import { DEFAULT_REWARD_CONFIG, type RewardConfig } from "../training/rewards.js";
import { replaySession, type TrainMetaSettings } from "../training/train-meta-session.js";

/**
 * A scripted replay log (a fixture: no model ran). Two rungs per task, a cheap "fast" run and a
 * dear "deep" run, each one logged Coder step. The cheap rung solves exactly the tasks whose
 * visible examples it passes, the dear rung solves every task: the hand cascade is optimal.
 */
const FAST_USD = 0.001;
const DEEP_USD = 0.05;

function task(i: number, cheapSolves: boolean, modes: readonly ("fast" | "standard" | "deep")[] = ["fast", "deep"], usd: Record<string, number> = { fast: FAST_USD, standard: 0.01, deep: DEEP_USD }): ReplayTask {
  return {
    task: { id: `T/${i}`, prompt: `def f${i}(x: int) -> int:\n    """ Return x.\n    >>> f${i}(1)\n    1\n    """\n`, entryPoint: `f${i}`, visibleExamples: [{ call: `f${i}(1)`, expected: "1" }] },
    configurations: modes.map((mode) => {
      const cheap = mode === modes[0];
      const solves = cheap ? cheapSolves : true;
      return { mode, success: solves, steps: [{ agent: "Coder" as const, visiblePassFraction: solves ? 1 : 0, tokens: 1000, costUsd: usd[mode]!, hasFinalCode: true }] };
    }),
  };
}

const cascadeLog: ReplayLog = Array.from({ length: 40 }, (_, i) => task(i, (i * 7) % 10 < 6));
const dollars: RewardConfig = { ...DEFAULT_REWARD_CONFIG, costPerUsd: 10 };

describe("choosing the controller out of sample", () => {
  it("offers every rule a user could write: a cascade from each rung, on a visible failure, on any failure, within a budget", () => {
    const names = ruleCandidates(3).map((rule) => `${rule.startRung}/${rule.escalateOn}/${rule.budgetShare}`);
    expect(names).toContain("0/visible-failure/null");
    expect(names).toContain("1/any-failure/0.25");
    expect(names).toContain("2/visible-failure/null"); // the dearest rung alone
    expect(names.filter((name) => name.startsWith("2/"))).toHaveLength(1);
  });

  it("picks the rule when the learned policy is no better out of sample, and the policy file then holds the rule", async () => {
    await useBackend("cpu");
    const selection = await selectRouter({ training: cascadeLog, seed: 3, episodes: 40, rewards: dollars, ladder: ["fast", "deep"], ladderCosts: { perRung: [FAST_USD, DEEP_USD], unit: "usd" }, dearest: "deep", successFloor: 0.95 });
    try {
      expect(selection.chosen).toMatchObject({ kind: "rule", rule: HAND_CASCADE });
      const rule = selection.candidates.find((c) => c.name === "cascade(0,visible)")!;
      expect(rule).toMatchObject({ successShare: 1, floorHolds: true });
      expect(rule.costShare).toBeCloseTo((40 * FAST_USD + 16 * DEEP_USD) / (40 * DEEP_USD), 9);
      // Every candidate's out-of-sample figures are kept, the learned one first.
      expect(selection.candidates[0]!.name).toBe("learned");
      expect(selection.candidates).toHaveLength(1 + ruleCandidates(2).length);
    } finally {
      selection.learned.dispose();
    }

    const dir = await mkdtemp(path.join(tmpdir(), "koderz-selection-"));
    const out = path.join(dir, "policy.json");
    const settings: TrainMetaSettings = { env: "replay", episodes: 40, seed: 3, out, lambda: 0.001, costWeight: 10, checkpointEvery: 0, concurrency: 1, seeds: 2, heldOut: 0.25, successFloor: 0.95, runs: ["fixture"] };
    const lines: string[] = [];
    const report = await replaySession(settings, cascadeLog, undefined, DEFAULT_REWARD_CONFIG, "cpu", { log: (line) => lines.push(line) });
    expect(report.text).toMatch(/^seed 3: 4-fold cross-validation on 30 training tasks chose the rule cascade\(0,visible\) .*the learned policy is worse out of sample/m);
    expect(report.text).toMatch(/^chosen /m);
    expect(report.text).toMatch(/^cascade\(0,any,<=25%\) /m);
    const file = parsePolicyFile(await readFile(out, "utf8"), out);
    expect(file).toMatchObject({ kind: "rule", rule: HAND_CASCADE, training: { env: "replay", successFloor: 0.95 } });
    expect(file.training.note).toMatch(/cross-validation chose the rule cascade\(0,visible\) over the learned policy/);

    // The rule loads where any policy file loads, and plays the ladder as the rule does.
    const { policy } = await loadPolicy(out);
    expect(policy.kind).toBe("rule");
    const played = await compareControllers([routerController(policy, "loaded")], () => createReplayEnvironments(cascadeLog.length, cascadeLog, 1, dollars), 1);
    expect(played.rows[0]).toMatchObject({ successRate: 1 });
    expect(played.rows[0]!.meanCostUsd).toBeCloseTo((40 * FAST_USD + 16 * DEEP_USD) / 40, 9);
  }, 120_000);

  it("climbs within a budget only when the next rung fits in it", async () => {
    const env = new ReplayEnvironment({ log: [cascadeLog[1]!], seed: 1, rewards: dollars });
    const within = new RulePolicy({ kind: "cascade", startRung: 0, escalateOn: "visible-failure", budgetShare: 1.5 });
    const tight = new RulePolicy({ kind: "cascade", startRung: 0, escalateOn: "visible-failure", budgetShare: 0.25 });
    let observation = await env.reset();
    observation = (await env.step(within.decide([observation])[0]!.action)).state;
    observation = (await env.step(within.decide([observation])[0]!.action)).state; // the cheap Coder: fails its example
    expect(within.decide([observation])[0]!.action).toEqual({ kind: "agent", agent: "Escalate" });
    expect(tight.decide([observation])[0]!.action).toEqual({ kind: "agent", agent: "Stop" });
  });
});

describe("the ladder features", () => {
  it("read the same state the same on two ladders whose prices differ only in scale", async () => {
    const cheapLadder = [task(0, false, ["fast", "deep"], { fast: 0.001, deep: 0.05 })];
    const dearLadder = [task(0, false, ["standard", "deep"], { standard: 0.01, deep: 0.5 })];
    const stateAfterFirstRung = async (log: ReplayLog, start: "fast" | "standard") => {
      const env = new ReplayEnvironment({ log, seed: 1, rewards: dollars });
      await env.reset();
      await env.step({ kind: "mode", mode: start });
      return (await env.step({ kind: "agent", agent: "Coder" })).state.episode;
    };
    const a = ladderStateFeatures(await stateAfterFirstRung(cheapLadder, "fast"));
    const b = ladderStateFeatures(await stateAfterFirstRung(dearLadder, "standard"));
    expect(Array.from(a)).toEqual(Array.from(b));
    // The cheap rung costs a fiftieth of the dearest, and a fiftieth of it is spent.
    expect(a[3]).toBeCloseTo(0.02, 6);
  });
});
