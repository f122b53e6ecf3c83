import { z } from "zod";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { SandboxFlags } from "./evaluate-flags.js";

/** The flags of `koderz audit` and their checks. Light on purpose: a usage error loads nothing else. */

export type AuditFlags = z.infer<typeof AuditOptions>;

/** One part of `--cases`: START:END (indices, END excluded), START: (from START on) or one index. */
export interface CaseSpan {
  start: number;
  /** Undefined: to the suite's end. */
  end?: number;
}

/** `--cases 0:10`, `--cases 5:`, `--cases 2,4,45` or a mix such as `0:3,45`. */
const caseSelection = z
  .string()
  .trim()
  .regex(/^\d+(:\d*)?(,\d+(:\d*)?)*$/, "must be START:END (case indices, END excluded), START:, one index, or a comma-separated list of them, e.g. 0:10 or 2,4,45")
  .transform((text) => ({
    text,
    spans: text.split(",").map((part): CaseSpan => {
      const [start, end] = part.split(":");
      return { start: Number(start), end: end === undefined ? Number(start) + 1 : end === "" ? undefined : Number(end) };
    }),
  }));

export const AuditOptions = z.object({
  cases: caseSelection.optional(),
  cheats: z
    .string()
    .transform((text) => text.split(",").map((name) => name.trim()).filter(Boolean))
    .refine((names) => names.length > 0, "must name at least one cheat")
    .optional(),
  ...SandboxFlags.shape,
  timeout: z
    .string()
    .default(String(DEFAULT_TIMEOUT_SECONDS))
    .refine((text) => /^\d+(\.\d+)?$/.test(text.trim()), "must be a number of seconds written in decimal digits, e.g. 3 or 0.5")
    .transform(Number)
    .refine((seconds) => seconds > 0 && seconds <= 600, "must be more than 0 and at most 600 seconds"),
  errata: z.boolean().default(true),
  json: z.boolean().default(false),
});
