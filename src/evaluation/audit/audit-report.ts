import { z } from "zod";
import type { SuiteAudit } from "./audit-suite.js";
import type { Cheat } from "./cheats.js";

/** A count and its share of the audited cases (null when no case was audited). */
const Tally = z.strictObject({ count: z.number().int().nonnegative(), share: z.number().min(0).max(1).nullable() });

/**
 * `koderz audit --json`: the JSON contract (camelCase, shares in [0, 1], schemaVersion 1, null for
 * unknown). docs/schemas/audit.schema.json is generated from this schema and checked by the tests.
 */
export const AuditReportSchema = z.strictObject({
  schemaVersion: z.literal(1),
  suite: z.string().describe("the suite's name"),
  source: z.string().nullable().describe("the suite file or dataset file read; null when unknown"),
  errata: z.boolean().describe("whether the known dataset mistakes (tasks/dataset-errata.ts) were corrected"),
  sandbox: z.enum(["docker", "process"]),
  selection: z.string().describe("the cases audited: all, or the --cases value (indices START:END, END excluded, comma-separated)"),
  cheats: z.array(z.strictObject({ name: z.string(), target: z.enum(["test", "judge"]), description: z.string() })),
  casesAudited: z.number().int().nonnegative(),
  cheatable: Tally.describe("cases at least one cheat passes"),
  cheatableByTarget: z.strictObject({
    test: Tally.describe("cases a wrong answer passes: a weak test"),
    judge: Tally.describe("cases a program passes by going around the test: a hole in the judge"),
  }),
  perCheat: z.array(z.strictObject({ cheat: z.string(), casesPassed: z.number().int().nonnegative(), casesTried: z.number().int().nonnegative() })),
  referenceFailures: z.array(z.strictObject({ caseId: z.string(), verdict: z.string() })).describe("cases whose own reference solution does not pass"),
  notAudited: z.array(z.strictObject({ caseId: z.string(), reason: z.string() })),
  cases: z.array(
    z.strictObject({
      caseId: z.string(),
      scorer: z.string(),
      timeLimitSeconds: z.number().positive().nullable(),
      reference: z.strictObject({ passed: z.boolean(), verdict: z.string() }).nullable(),
      passedBy: z.array(z.string()),
      passedIfJudgeFooled: z.array(z.string()),
      judgeOnlyCriteria: z.array(z.string()),
      criteriaMetByCheats: z.array(z.strictObject({ criterion: z.string(), cheats: z.array(z.string()) })),
      verdicts: z.record(z.string(), z.string()),
    }),
  ),
  wallSeconds: z.number().nonnegative(),
}).meta({ title: "koderz audit --json", description: "generic cheats run against every case of a suite, and the cases they pass" });
export type AuditReport = z.infer<typeof AuditReportSchema>;

export interface AuditContext {
  suite: string;
  source: string | null;
  errata: boolean;
  sandbox: "docker" | "process";
  selection: string;
  cheats: readonly Cheat[];
  wallSeconds: number;
}

/** The report of an audit: what passed where, the rates, and the cases that could not be audited. */
export function auditReport(audit: SuiteAudit, context: AuditContext): AuditReport {
  const audited = audit.cases.length;
  const tally = (count: number) => ({ count, share: audited === 0 ? null : count / audited });
  const targetOf = new Map(context.cheats.map((cheat) => [cheat.name, cheat.target]));
  const passedByTarget = (target: "test" | "judge") => audit.cases.filter((c) => c.passedBy.some((name) => targetOf.get(name) === target)).length;
  return {
    schemaVersion: 1,
    suite: context.suite,
    source: context.source,
    errata: context.errata,
    sandbox: context.sandbox,
    selection: context.selection,
    cheats: context.cheats.map(({ name, target, description }) => ({ name, target, description })),
    casesAudited: audited,
    cheatable: tally(audit.cases.filter((c) => c.passedBy.length > 0).length),
    cheatableByTarget: { test: tally(passedByTarget("test")), judge: tally(passedByTarget("judge")) },
    perCheat: context.cheats.map((cheat) => ({
      cheat: cheat.name,
      casesPassed: audit.cases.filter((c) => c.passedBy.includes(cheat.name)).length,
      casesTried: audit.cases.filter((c) => cheat.name in c.verdicts).length,
    })),
    referenceFailures: audit.cases.flatMap((c) => (c.reference && !c.reference.passed ? [{ caseId: c.caseId, verdict: c.reference.verdict }] : [])),
    notAudited: audit.notAudited,
    cases: audit.cases,
    wallSeconds: Math.round(context.wallSeconds * 10) / 10,
  };
}
