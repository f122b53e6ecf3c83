import { describe, expect, it } from "vitest";
import { mcnemarExactP, pairedBootstrapInterval, pairedCounts, seededRandom, type PairedOutcome } from "../src/report/statistics.js";

/**
 * Expected McNemar values: p = min(1, 2 · Σ_{i ≤ min(b,c)} C(n, i) / 2^n) with n = b + c.
 * Checked with python3:
 *   from math import comb; from fractions import Fraction
 *   p = lambda b, c: min(1, float(Fraction(2 * sum(comb(b + c, i) for i in range(min(b, c) + 1)), 2 ** (b + c))))
 */
describe("McNemar's exact test", () => {
  it.each([
    // b=1, c=9: n=10, (C(10,0) + C(10,1)) = 11; 2 · 11 / 1024
    [1, 9, 0.021484375],
    // b=2, c=8: (1 + 10 + 45) = 56; 2 · 56 / 1024
    [2, 8, 0.109375],
    // b=0, c=5: 2 · 1 / 32
    [0, 5, 0.0625],
    // symmetric in b and c: b=4, c=0 is 2 · 1 / 16
    [4, 0, 0.125],
    // b=3, c=7: (1 + 10 + 45 + 120) = 176; 2 · 176 / 1024
    [3, 7, 0.34375],
    // b=c: the doubled tail exceeds 1, so p = 1
    [5, 5, 1],
    // no discordant pairs: no evidence either way
    [0, 0, 1],
    // python: p(10, 30)
    [10, 30, 0.0022214337732293643],
    // python: p(600, 700); n = 1300 is past where C(n, k) overflows a double
    [600, 700, 0.0060157938610449525],
    // python: 2 / 2^1100 underflows to 0.0
    [0, 1100, 0],
  ])("b=%i, c=%i → p = %f", (b, c, expected) => {
    expect(mcnemarExactP(b, c)).toBeCloseTo(expected, 14);
    expect(mcnemarExactP(c, b)).toBeCloseTo(expected, 14);
  });

  it("is exact for small tables", () => {
    expect(mcnemarExactP(1, 9)).toBe(0.021484375);
    expect(mcnemarExactP(2, 8)).toBe(0.109375);
  });

  it("refuses counts that are not non-negative integers", () => {
    expect(() => mcnemarExactP(-1, 2)).toThrow(RangeError);
    expect(() => mcnemarExactP(1.5, 2)).toThrow(RangeError);
  });
});

describe("paired counts", () => {
  it("counts wins, losses and ties from the candidate's side", () => {
    const pairs: PairedOutcome[] = [
      { baseline: false, candidate: true },
      { baseline: false, candidate: true },
      { baseline: true, candidate: false },
      { baseline: true, candidate: true },
      { baseline: false, candidate: false },
      { baseline: false, candidate: false },
    ];
    expect(pairedCounts(pairs)).toEqual({ wins: 2, losses: 1, ties: 3, bothSolved: 1, bothFailed: 2 });
  });
});

function pairs(counts: { wins: number; losses: number; bothSolved: number; bothFailed: number }): PairedOutcome[] {
  return [
    ...Array.from({ length: counts.wins }, () => ({ baseline: false, candidate: true })),
    ...Array.from({ length: counts.losses }, () => ({ baseline: true, candidate: false })),
    ...Array.from({ length: counts.bothSolved }, () => ({ baseline: true, candidate: true })),
    ...Array.from({ length: counts.bothFailed }, () => ({ baseline: false, candidate: false })),
  ];
}

describe("paired bootstrap interval", () => {
  it("is [0, 0] when every pair agrees", () => {
    const interval = pairedBootstrapInterval(pairs({ wins: 0, losses: 0, bothSolved: 30, bothFailed: 20 }));
    expect(interval).toMatchObject({ estimate: 0, lower: 0, upper: 0, confidence: 0.95, resamples: 10_000 });
  });

  it("excludes 0 and contains the estimate for a clear improvement", () => {
    // 40 wins, 2 losses over 100 problems: the candidate is 38 points better.
    const interval = pairedBootstrapInterval(pairs({ wins: 40, losses: 2, bothSolved: 30, bothFailed: 28 }));
    expect(interval.estimate).toBeCloseTo(0.38, 12);
    expect(interval.lower).toBeGreaterThan(0);
    expect(interval.lower).toBeLessThan(interval.estimate);
    expect(interval.upper).toBeGreaterThan(interval.estimate);
    // The normal approximation sd = sqrt((p_w + p_l − d²) / n) = sqrt((0.42 − 0.1444) / 100) ≈ 0.0525
    // puts the 95 % interval near 0.38 ± 0.103; the bootstrap must be in that neighbourhood.
    expect(interval.lower).toBeGreaterThan(0.25);
    expect(interval.lower).toBeLessThan(0.31);
    expect(interval.upper).toBeGreaterThan(0.45);
    expect(interval.upper).toBeLessThan(0.51);
  });

  it("excludes 0 on the negative side for a clear regression", () => {
    const interval = pairedBootstrapInterval(pairs({ wins: 1, losses: 25, bothSolved: 40, bothFailed: 34 }));
    expect(interval.estimate).toBeCloseTo(-0.24, 12);
    expect(interval.upper).toBeLessThan(0);
  });

  it("includes 0 when wins and losses balance", () => {
    const interval = pairedBootstrapInterval(pairs({ wins: 6, losses: 5, bothSolved: 50, bothFailed: 39 }));
    expect(interval.lower).toBeLessThan(0);
    expect(interval.upper).toBeGreaterThan(0);
  });

  it("gives the same interval for the same seed, and another for another seed", () => {
    const data = pairs({ wins: 12, losses: 7, bothSolved: 50, bothFailed: 31 });
    const first = pairedBootstrapInterval(data, { seed: 7 });
    expect(pairedBootstrapInterval(data, { seed: 7 })).toEqual(first);
    expect(pairedBootstrapInterval(data)).toEqual(pairedBootstrapInterval(data));
    // Over 100 problems the differences are multiples of 0.01, so 10 000 resamples with two
    // seeds land on the same quantiles; a few resamples show the seed is really used.
    const few = (seed: number) => pairedBootstrapInterval(data, { seed, resamples: 25 });
    expect([7, 8, 9, 10].map((seed) => `${few(seed).lower} ${few(seed).upper}`).some((text, _, all) => text !== all[0])).toBe(true);
  });

  it("narrows with lower confidence and handles no problems", () => {
    const data = pairs({ wins: 12, losses: 7, bothSolved: 50, bothFailed: 31 });
    const wide = pairedBootstrapInterval(data, { confidence: 0.99 });
    const narrow = pairedBootstrapInterval(data, { confidence: 0.8 });
    expect(wide.upper - wide.lower).toBeGreaterThan(narrow.upper - narrow.lower);
    expect(pairedBootstrapInterval([])).toMatchObject({ estimate: 0, lower: 0, upper: 0 });
    expect(() => pairedBootstrapInterval(data, { resamples: 0 })).toThrow(RangeError);
  });
});

describe("seeded random numbers", () => {
  it("repeat for a seed and stay in [0, 1)", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const drawn = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(drawn);
    expect(drawn.every((x) => x >= 0 && x < 1)).toBe(true);
    // Roughly uniform: the mean of 1000 draws is within 0.05 of 1/2.
    expect(Math.abs(drawn.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
  });
});
