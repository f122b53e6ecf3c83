import { describe, expect, it } from "vitest";
import { recommendRoles } from "../src/report/rubric-roles.js";
import type { GroupTotals } from "../src/store/index.js";

const tiers = (means: Record<string, number | null>): GroupTotals[] =>
  Object.entries(means).map(([name, meanScore]) => ({ name, totalProblems: 3, successes: 0, successRate: 0, meanScore, totalCost: 0 }));

describe("role recommendation from rubric tier means", () => {
  it("recommends the most demanding role whose every tier threshold is met", () => {
    expect(recommendRoles(tiers({ T1: 4.8, T2: 4.6, T3: 4.5 })).recommended).toBe("architect_coding");
    expect(recommendRoles(tiers({ T1: 4.6, T2: 4.2, T3: 3.6 }))).toEqual({
      roles: ["coder_escalation", "coder_primary"],
      recommended: "coder_escalation",
      shortfalls: { architect_coding: "T2 4.20 < 4.5" },
    });
    expect(recommendRoles(tiers({ T1: 4.0, T2: 3.5, T3: 1 })).recommended).toBe("coder_primary");
  });

  it("recommends none below coder_primary, and a tier not run meets no threshold", () => {
    expect(recommendRoles(tiers({ T1: 3.9, T2: 4.9, T3: 4.9 }))).toMatchObject({ recommended: "none", shortfalls: { coder_primary: "T1 3.90 < 4" } });
    expect(recommendRoles(tiers({ T1: 5, T2: 5 })).shortfalls.architect_coding).toBe("T3 not run");
    expect(recommendRoles(tiers({ T1: 5, T2: 5, T3: null })).recommended).toBe("coder_primary");
  });
});
