import { z } from "zod";
import { CHECKS } from "./doctor-checks.js";

/**
 * `koderz doctor --json`, as the JSON contract has it: schemaVersion 1, camelCase, null where
 * a figure is unknown. docs/schemas/doctor.schema.json is this schema as JSON Schema (a test
 * keeps the two equal).
 */
const count = z.number().int().min(0);
export const DoctorJsonSchema = z.strictObject({
  schemaVersion: z.literal(1),
  /** True when no model has a failed check. */
  ready: z.boolean(),
  models: z.array(
    z.strictObject({
      model: z.string(),
      ready: z.boolean(),
      rows: z.array(
        z.strictObject({
          check: z.enum(CHECKS),
          status: z.enum(["ok", "warn", "fail", "skip"]),
          detail: z.string(),
          action: z.string().nullable(),
        }),
      ),
      latencyMs: count.nullable(),
      tokensPerSecond: z.number().min(0).nullable(),
      timeToFirstTokenMs: count.nullable(),
      contextClaimed: count.nullable(),
      contextAccepted: count.nullable(),
      inputTokens: count,
      outputTokens: count,
      costUsd: z.number().min(0).nullable(),
      usageEstimated: z.boolean(),
    }),
  ),
});
export type DoctorJson = z.infer<typeof DoctorJsonSchema>;
