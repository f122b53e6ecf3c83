import { z } from "zod";
import type { ArmTotals } from "./engine.js";
import type { RunRecord } from "./records.js";
import { calledModels, knownFigures, runName, runSuite } from "./run-identity.js";
import { RunIdentityFields, SchemaVersionField, SCHEMA_VERSION } from "./summary.js";

/**
 * One run as `koderz results list --json` and the MCP server show it: who it is (id, label,
 * name, models it called, suite, status) and its totals per arm and overall. Shares are
 * fractions; costs and tokens the run did not log are null.
 */
export const ArmListingSchema = z.strictObject({
  arm: z.string(),
  experiments: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  successRate: z.number().min(0).max(1).nullable(),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  costUsd: z.number().nonnegative().nullable(),
});

export const RunListingSchema = z.strictObject({
  ...RunIdentityFields,
  stage: z.string().nullable(),
  suite: z.string().nullable(),
  /** The models the run called (a model it was only configured with is not listed). */
  models: z.array(z.string()),
  startTime: z.string(),
  endTime: z.string().nullable(),
  tags: z.array(z.string()),
  problems: z.number().int().nonnegative(),
  arms: z.array(ArmListingSchema),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  costUsd: z.number().nonnegative().nullable(),
});
export type RunListing = z.infer<typeof RunListingSchema>;

/** `results list --json`: the document around the listings. */
export const RunListDocumentSchema = z.strictObject({ schemaVersion: SchemaVersionField, runs: z.array(RunListingSchema) });

export function runListDocument(listings: RunListing[]): z.infer<typeof RunListDocumentSchema> {
  return { schemaVersion: SCHEMA_VERSION, runs: listings };
}

export function runListing(run: RunRecord, arms: ArmTotals[]): RunListing {
  const known = knownFigures(run);
  const cost = (value: number) => (known.cost ? value : null);
  const tokens = (value: number) => (known.tokens ? value : null);
  return {
    runId: run.runId,
    label: run.label ?? null,
    name: runName(run),
    kind: run.kind,
    mode: run.mode,
    status: run.status,
    stage: run.stage ?? null,
    suite: runSuite(run),
    models: calledModels(run),
    startTime: run.startTime,
    endTime: run.endTime ?? null,
    tags: run.tags,
    // Arms of one run cover the same problems; the largest arm is the run's problem count.
    problems: Math.max(0, ...arms.map((a) => a.experiments)),
    arms: arms.map((a) => ({
      arm: a.arm,
      experiments: a.experiments,
      successes: a.successes,
      successRate: a.experiments === 0 ? null : a.successes / a.experiments,
      inputTokens: tokens(a.inputTokens),
      outputTokens: tokens(a.outputTokens),
      costUsd: cost(a.costUsd),
    })),
    inputTokens: tokens(arms.reduce((total, a) => total + a.inputTokens, 0)),
    outputTokens: tokens(arms.reduce((total, a) => total + a.outputTokens, 0)),
    costUsd: cost(arms.reduce((total, a) => total + a.costUsd, 0)),
  };
}
