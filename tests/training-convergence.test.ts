import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../policy/backend.js";
import { bestFixedMode } from "../training/compare-controllers.js";
import type { EpisodeMetric, UpdateMetric } from "../training/metrics.js";
import { DEFAULT_REWARD_CONFIG, regretGrowth } from "../training/rewards.js";
import { syntheticExperience, trainAndCompare } from "../training/session.js";

describe("training on the synthetic environment (fixed seed)", () => {
  beforeAll(async () => {
    await useBackend("wasm"); // one backend, so the seeded run is the same run every time
  });

  it("learns a policy that beats the best fixed mode and nears the oracle on held-out tasks", async () => {
    const episodes: EpisodeMetric[] = [];
    const updates: UpdateMetric[] = [];
    const checkpoints: number[] = [];
    const { result, comparison } = await trainAndCompare({
      experience: syntheticExperience(1, DEFAULT_REWARD_CONFIG, 1000),
      episodes: 4000,
      seed: 1,
      onEpisode: (m) => episodes.push(m),
      onUpdate: (m) => updates.push(m),
      checkpointEvery: 2000,
      onCheckpoint: (_, n) => void checkpoints.push(n),
    });

    const learned = comparison.rows.find((row) => row.name === "learned")!;
    const bestFixed = bestFixedMode(comparison);
    expect(comparison.source).toBe("synthetic");
    expect(learned.meanReturn).toBeGreaterThan(bestFixed.meanReturn);
    expect(learned.fractionOfOracle).toBeGreaterThanOrEqual(0.9);
    expect(regretGrowth(result.regret!.series).ratio).toBeLessThan(0.3);

    // What the metrics file will hold: every episode, every update, checkpoints on schedule.
    expect(episodes).toHaveLength(4000);
    expect(episodes.map((e) => e.episode)).toEqual([...Array(4000).keys()]);
    expect(episodes.every((e) => e.env === "synthetic" && e.regret !== null)).toBe(true);
    expect(episodes.at(-1)!.cumulativeRegret).toBeCloseTo(result.regret!.cumulative, 6);
    expect(updates).toHaveLength(result.updates);
    expect(updates.at(-1)!.episodes).toBe(4000);
    expect(checkpoints).toEqual([2000, 4000]);
    result.policy.dispose();
  });
});
