import { z } from "zod";
import type { Sandbox, SandboxName } from "../../sandbox/sandbox.js";
import { DEFAULT_KS } from "../evaluation/pass-at-k.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";

/** The flags of `koderz evaluate` and their checks. Light on purpose: a usage error loads nothing else. */

/** `--sandbox` and `--workers`: every command that runs programs through a sandbox takes them alike. */
export const SandboxFlags = z.object({
  sandbox: z.enum(["docker", "process"]).optional(),
  workers: z
    .string()
    .regex(/^\d+$/, "must be a whole number >= 1")
    .transform(Number)
    .refine((workers) => workers >= 1, "must be a whole number >= 1")
    .optional(),
});

export type EvaluateFlags = z.infer<typeof EvaluateOptions>;

/** Opens the sandbox the user asked for, or the default one; `notice` prints warnings on stderr. */
export type SandboxOpener = (name: SandboxName | undefined, notice: (message: string) => void) => Promise<Sandbox>;

/** An hour per program is far beyond any HumanEval task; larger values are typos (and overflow timers past 24 days). */
const MAX_TIMEOUT_SECONDS = 3600;

/** A label, arm or tag goes into "key:value" tags, which cannot hold commas or semicolons. */
const tagWord = z.string().trim().min(1).regex(/^[^,;]+$/, "must not contain commas or semicolons");
const fieldName = z.string().trim().min(1, "must name a field of the samples lines");

/** --save-run and the flags that only make sense with it. */
const SaveRunOptions = z.object({
  saveRun: z.boolean().default(false),
  label: tagWord.optional(),
  // A "comparative" run is read as two arms (zero-shot and iterative) by the run summary.
  arm: tagWord.refine((arm) => arm !== "comparative", "cannot be comparative: an imported run has one arm").optional(),
  costField: fieldName.optional(),
  iterationsField: fieldName.optional(),
  inputTokensField: fieldName.optional(),
  outputTokensField: fieldName.optional(),
  stage: z.string().trim().min(1).optional(),
  tags: z
    .string()
    .transform((text) => text.split(",").map((tag) => tag.trim()).filter(Boolean))
    .optional(),
  db: z.string().optional(),
  resultsDir: z.string().min(1).default("results"),
  force: z.boolean().default(false),
});
const SAVE_RUN_ONLY = ["label", "arm", "costField", "iterationsField", "inputTokensField", "outputTokensField", "stage", "tags", "db", "force"] as const;

function requireSaveRunForItsFlags(options: z.infer<typeof SaveRunOptions>, context: z.RefinementCtx): void {
  if (options.saveRun && options.label === undefined) {
    context.addIssue({ code: "custom", path: ["label"], message: "--save-run needs --label NAME, the name the imported run is listed under" });
  }
  if (options.saveRun) return;
  const stray = SAVE_RUN_ONLY.find((key) => options[key] !== undefined && options[key] !== false);
  if (stray) context.addIssue({ code: "custom", path: [stray], message: "only works with --save-run (importing the samples as a run)" });
}

export const EvaluateOptions = z.object({
  dataset: z.string().min(1).default("humaneval"),
  k: z
    .string()
    .default(DEFAULT_KS.join(","))
    .refine((text) => text.split(",").every((part) => /^\d+$/.test(part.trim())), "must be a comma-separated list of whole numbers >= 1, e.g. 1,10,100")
    .transform((text) => text.split(",").map((part) => Number(part.trim())))
    .refine((ks) => ks.every((k) => k >= 1), "must be a comma-separated list of whole numbers >= 1, e.g. 1,10,100"),
  timeout: z
    .string()
    .default(String(DEFAULT_TIMEOUT_SECONDS))
    .refine((text) => /^\d+(\.\d+)?$/.test(text.trim()), "must be a number of seconds written in decimal digits, e.g. 3 or 0.5")
    .transform(Number)
    .refine((seconds) => seconds > 0, "must be more than 0 seconds")
    .refine((seconds) => seconds <= MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} seconds per program`),
  ...SandboxFlags.shape,
  sanitize: z.boolean().default(false),
  allowPartial: z.boolean().default(false),
  json: z.boolean().default(false),
  ...SaveRunOptions.shape,
}).superRefine(requireSaveRunForItsFlags);
