import path from "node:path";
import { z } from "zod";
import { BACKEND_CHOICES } from "../../policy/backend-choices.js";
import { DEFAULT_COST_PER_USD, DEFAULT_REWARD_CONFIG } from "../../training/rewards.js";
import { ModelOptions } from "./benchmark-options.js";

/** The flags of `koderz train-meta` and their checks. Light on purpose: a usage error loads no tensors. */
export const TrainMetaOptions = ModelOptions.extend({
  episodes: z.coerce.number().int("must be a whole number").positive("must be at least 1").default(10_000),
  env: z.enum(["synthetic", "replay", "live"], "must be synthetic, replay or live").default("synthetic"),
  runs: z
    .string()
    .transform((text) => text.split(",").map((id) => id.trim()).filter(Boolean))
    .optional(),
  evalRuns: z
    .string()
    .transform((text) => text.split(",").map((id) => id.trim()).filter(Boolean))
    .optional(),
  db: z.string().optional(),
  dataset: z.string().default("humaneval"),
  armMode: z.array(z.string()).default([]),
  heldOut: z.coerce.number().gt(0, "must be between 0 and 1").lt(1, "must be between 0 and 1").default(0.2),
  out: z.string().min(1).default(path.join("results", "policy.json")),
  backend: z.enum(BACKEND_CHOICES, `must be one of ${BACKEND_CHOICES.join(", ")}`).default("auto"),
  seed: z.coerce.number().int("must be a whole number").default(1),
  metrics: z.string().optional(),
  lambda: z.coerce.number().nonnegative("must be >= 0 (reward lost per 1000 tokens)").default(DEFAULT_REWARD_CONFIG.lambdaPer1000Tokens),
  costWeight: z.coerce.number().nonnegative("must be >= 0 (reward lost per US dollar)").default(DEFAULT_COST_PER_USD),
  seeds: z.coerce.number().int("must be a whole number").positive("must be at least 1").max(50, "must be at most 50").default(5),
  curve: z
    .string()
    .transform((text) => text.split(",").map((w) => Number(w.trim())))
    .refine((weights) => weights.length > 0 && weights.every((w) => Number.isFinite(w) && w >= 0), "must be comma-separated cost weights >= 0, e.g. 0,1,3,10")
    .optional(),
  successFloor: z.coerce.number().gt(0, "must be a share of the dearest arm's success, above 0 and at most 1, e.g. 0.95").max(1, "must be a share of the dearest arm's success, above 0 and at most 1, e.g. 0.95").optional(),
  checkpointEvery: z.coerce.number().int().nonnegative("must be a whole number >= 0").default(2_000),
  evalEpisodes: z.coerce.number().int().positive("must be at least 1").default(2_000),
  policy: z.string().min(1).optional(),
  problems: z
    .string()
    .regex(/^\d+:\d+$/, "must be START:END, e.g. 0:10 for the first ten problems")
    .transform((text): [number, number] => {
      const [start, end] = text.split(":");
      return [Number(start), Number(end)];
    })
    .optional(),
  concurrency: z.coerce.number().int("must be a whole number").positive("must be at least 1").default(2),
  json: z.boolean().default(false),
});
export type TrainMetaFlags = z.infer<typeof TrainMetaOptions>;
