import { describe, expect, it } from "vitest";
import { estimatePassAtK, passAtK } from "../src/evaluation/pass-at-k.js";

/** 1 - C(n-c, k) / C(n, k) with exact big integers: the definition, for comparison. */
function byDefinition(n: number, c: number, k: number): number {
  const choose = (a: number, b: number): bigint => {
    if (b < 0 || b > a) return 0n;
    let result = 1n;
    for (let i = 1; i <= b; i++) result = (result * BigInt(a - b + i)) / BigInt(i);
    return result;
  };
  const scale = 10n ** 30n;
  return 1 - Number((choose(n - c, k) * scale) / choose(n, k)) / 1e30;
}

describe("estimatePassAtK", () => {
  it("matches hand-computed values", () => {
    expect(estimatePassAtK(1, 1, 1)).toBe(1);
    expect(estimatePassAtK(1, 0, 1)).toBe(0);
    expect(estimatePassAtK(10, 3, 1)).toBeCloseTo(0.3, 12); // c / n
    expect(estimatePassAtK(5, 2, 2)).toBeCloseTo(0.7, 12); // 1 - C(3,2)/C(5,2) = 1 - 3/10
    expect(estimatePassAtK(4, 1, 2)).toBeCloseTo(0.5, 12); // 1 - C(3,2)/C(4,2) = 1 - 3/6
    expect(estimatePassAtK(10, 1, 5)).toBeCloseTo(0.5, 12); // 1 - C(9,5)/C(10,5) = 1 - 126/252
    expect(estimatePassAtK(6, 2, 3)).toBeCloseTo(0.8, 12); // 1 - C(4,3)/C(6,3) = 1 - 4/20
  });

  it("is 1 when every draw of k must hold a correct sample (n - c < k)", () => {
    expect(estimatePassAtK(10, 8, 3)).toBe(1);
    expect(estimatePassAtK(10, 10, 1)).toBe(1);
  });

  it("stays exact where binomials overflow doubles (n = 200, k = 100)", () => {
    for (const c of [0, 1, 2, 5, 50, 99, 100]) {
      expect(estimatePassAtK(200, c, 100)).toBeCloseTo(byDefinition(200, c, 100), 12);
    }
    expect(estimatePassAtK(200, 0, 100)).toBe(0);
  });

  it("rejects impossible counts", () => {
    expect(() => estimatePassAtK(3, 4, 1)).toThrow(RangeError);
    expect(() => estimatePassAtK(3, 1, 0)).toThrow(RangeError);
  });
});

describe("passAtK over tasks", () => {
  it("averages the per-task estimates", () => {
    const tallies = [
      { total: 10, correct: 10 },
      { total: 10, correct: 0 },
      { total: 10, correct: 5 },
    ];
    const result = passAtK(tallies, [1, 10]);
    expect(result["pass@1"]).toBeCloseTo((1 + 0 + 0.5) / 3, 12);
    expect(result["pass@10"]).toBeCloseTo((1 + 0 + 1) / 3, 12);
  });

  it("reports a k only when every task has at least k samples, as the reference harness does", () => {
    const result = passAtK([{ total: 1, correct: 1 }, { total: 20, correct: 3 }], [1, 10, 100]);
    expect(Object.keys(result)).toEqual(["pass@1"]);
    expect(passAtK([{ total: 100, correct: 1 }], [1, 10, 100])).toHaveProperty("pass@100");
  });

  it("gives nothing for no tasks", () => {
    expect(passAtK([], [1])).toEqual({});
  });
});
