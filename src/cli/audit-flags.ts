import { z } from "zod";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";

/** The flags of `koderz audit` and their checks. Light on purpose: a usage error loads nothing else. */

export type AuditFlags = z.infer<typeof AuditOptions>;

/** `--cases 0:10` (indices [0, 10)), `--cases 5:` (from 5 on) or `--cases 7` (that case alone). */
const caseRange = z
  .string()
  .trim()
  .regex(/^\d+(:\d*)?$/, "must be START:END (case indices, END excluded), START: or one index, e.g. 0:10")
  .transform((text) => {
    const [start, end] = text.split(":");
    return { start: Number(start), end: end === undefined ? Number(start) + 1 : end === "" ? undefined : Number(end) };
  });

export const AuditOptions = z.object({
  cases: caseRange.optional(),
  cheats: z
    .string()
    .transform((text) => text.split(",").map((name) => name.trim()).filter(Boolean))
    .refine((names) => names.length > 0, "must name at least one cheat")
    .optional(),
  sandbox: z.enum(["docker", "process"]).optional(),
  workers: z
    .string()
    .regex(/^\d+$/, "must be a whole number >= 1")
    .transform(Number)
    .refine((workers) => workers >= 1, "must be a whole number >= 1")
    .optional(),
  timeout: z
    .string()
    .default(String(DEFAULT_TIMEOUT_SECONDS))
    .refine((text) => /^\d+(\.\d+)?$/.test(text.trim()), "must be a number of seconds written in decimal digits, e.g. 3 or 0.5")
    .transform(Number)
    .refine((seconds) => seconds > 0 && seconds <= 600, "must be more than 0 and at most 600 seconds"),
  errata: z.boolean().default(true),
  json: z.boolean().default(false),
});
