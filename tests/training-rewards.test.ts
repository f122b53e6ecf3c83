import { describe, expect, it } from "vitest";
import {
  costPenalty,
  DEFAULT_REWARD_CONFIG,
  episodeRegret,
  progressReward,
  RegretTracker,
  regretGrowth,
  stepReward,
  successBonus,
} from "../training/rewards.js";

describe("rewards", () => {
  it("pays progress as the change in visible pass fraction", () => {
    expect(progressReward(0.25, 0.75)).toBeCloseTo(0.5);
    expect(progressReward(1, 0.5)).toBeCloseTo(-0.5);
  });

  it("charges 0.001 per 1000 tokens by default, and λ when configured", () => {
    expect(DEFAULT_REWARD_CONFIG.lambdaPer1000Tokens).toBe(0.001);
    expect(costPenalty(20_000)).toBeCloseTo(0.02);
    expect(costPenalty(20_000, { ...DEFAULT_REWARD_CONFIG, lambdaPer1000Tokens: 0.01 })).toBeCloseTo(0.2);
  });

  it("combines progress and cost in a step, and adds the bonus only on success", () => {
    // 0 → 2/3 of the visible examples for 3000 tokens: 0.6667 − 0.003
    expect(stepReward({ visibleBefore: 0, visibleAfter: 2 / 3, tokens: 3000 })).toBeCloseTo(0.663667, 5);
    expect(successBonus(true)).toBe(1);
    expect(successBonus(false)).toBe(0);
  });

  it("measures regret against the oracle and accumulates it", () => {
    expect(episodeRegret(1.9, 1.4)).toBeCloseTo(0.5);
    const tracker = new RegretTracker();
    expect(tracker.record(2, 1)).toBeCloseTo(1);
    expect(tracker.record(2, 1.5)).toBeCloseTo(1.5);
    expect(tracker.record(1, 1.25)).toBeCloseTo(1.25); // a lucky episode lowers it
    expect(tracker.episodes).toBe(3);
  });

  it("compares the regret growth of the last tenth with the first", () => {
    const series = [...Array(10).fill(1), ...Array(80).fill(0.5), ...Array(10).fill(0.1)];
    const growth = regretGrowth(series);
    expect(growth.firstTenthRate).toBeCloseTo(1);
    expect(growth.lastTenthRate).toBeCloseTo(0.1);
    expect(growth.ratio).toBeCloseTo(0.1);
  });
});
