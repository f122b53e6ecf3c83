import type { GroupTotals } from "../store/index.js";

/**
 * Which coding roles a model can fill, from its mean rubric score per tier (T1 everyday functions,
 * T2 algorithms and data structures, T3 concurrency and design) on the 1-5 scale. A role needs
 * every listed tier's mean at or above its threshold; a tier the run did not cover fails it.
 * The thresholds are koderz's own choice, named in the README ("Rubric suites").
 */
export const ROLE_THRESHOLDS = [
  { role: "architect_coding", needs: { T1: 4.5, T2: 4.5, T3: 4.5 } },
  { role: "coder_escalation", needs: { T1: 4.5, T2: 4.0, T3: 3.5 } },
  { role: "coder_primary", needs: { T1: 4.0, T2: 3.5 } },
] as const satisfies readonly { role: string; needs: Record<string, number> }[];

export type CodingRole = (typeof ROLE_THRESHOLDS)[number]["role"];

export interface RoleRecommendation {
  /** Every role whose thresholds are met, most demanding first. */
  roles: CodingRole[];
  /** The single recommendation: the most demanding role met, or "none". */
  recommended: CodingRole | "none";
  /** For each role not met: the first tier that fell short, as "T3 3.20 < 3.5" (or "T3 not run"). */
  shortfalls: Partial<Record<CodingRole, string>>;
}

export function recommendRoles(tiers: readonly GroupTotals[]): RoleRecommendation {
  const meanOf = new Map(tiers.map((tier) => [tier.name, tier.meanScore]));
  const roles: CodingRole[] = [];
  const shortfalls: Partial<Record<CodingRole, string>> = {};
  for (const { role, needs } of ROLE_THRESHOLDS) {
    const short = Object.entries(needs).find(([tier, threshold]) => (meanOf.get(tier) ?? 0) < threshold);
    if (!short) roles.push(role);
    else {
      const mean = meanOf.get(short[0]);
      shortfalls[role] = mean === undefined || mean === null ? `${short[0]} not run` : `${short[0]} ${mean.toFixed(2)} < ${short[1]}`;
    }
  }
  return { roles, recommended: roles[0] ?? "none", shortfalls };
}
