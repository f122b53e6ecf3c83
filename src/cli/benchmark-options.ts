import { z } from "zod";
import { BENCHMARK_MODES, DEFAULT_SETTINGS } from "../orchestrator/modes.js";
import { DEFAULT_FRONTIER_MODEL, DEFAULT_LOCAL_MODEL } from "./benchmark-flags.js";
import { parseOptions } from "./parse.js";

/** The values of the flags in benchmark-flags.ts, checked and typed: loaded once the flags combine. */

/** A flag that takes a whole number of at least 1, named in its messages. */
export const wholeNumber = (flag: string) => z.coerce.number().int(`${flag} must be a whole number`).positive(`${flag} must be at least 1`);

/** The flags that choose models, agent settings, budgets and the sandbox: `benchmark`, `run` and `train-meta --env live` share them. */
export const ModelOptions = z.object({
  localModel: z.string().default(DEFAULT_LOCAL_MODEL),
  frontierModel: z.string().default(DEFAULT_FRONTIER_MODEL),
  modelFor: z.array(z.string()).default([]),
  config: z.string().optional(),
  trajectories: wholeNumber("--trajectories").default(DEFAULT_SETTINGS.trajectories),
  debugRounds: z.coerce.number().int().nonnegative().default(DEFAULT_SETTINGS.debugRounds),
  maxSteps: wholeNumber("--max-steps").optional(),
  maxTokens: wholeNumber("--max-tokens").optional(),
  maxUsd: z.coerce.number().positive("--max-usd must be > 0").optional(),
  maxSeconds: z.coerce.number().positive("--max-seconds must be > 0").optional(),
  sandbox: z.enum(["docker", "process"]).optional(),
  threads: wholeNumber("--threads").optional(),
});
export type ModelFlags = z.infer<typeof ModelOptions>;

export const BenchmarkOptions = ModelOptions.extend({
  mode: z.enum([...BENCHMARK_MODES, "auto"]).default("comparative"),
  dataset: z.string().default("humaneval"),
  suite: z.string().min(1).optional(),
  repos: z.string().min(1).optional(),
  imageFor: z.array(z.string()).default([]),
  maxIterations: wholeNumber("--max-iterations").default(DEFAULT_SETTINGS.maxIterations),
  checkpointEvery: wholeNumber("--checkpoint-every").default(DEFAULT_SETTINGS.checkpointEvery),
  concurrency: wholeNumber("--concurrency").default(2),
  resume: z.string().optional(),
  replay: z.string().optional(),
  cache: z.boolean().default(false),
  policy: z.string().optional(),
  learn: z.boolean().default(false),
  policyOut: z.string().optional(),
  ladder: z.string().optional(),
  stage: z.string().optional(),
  tags: z.string().optional(),
  db: z.string().optional(),
  queue: z.string().optional(),
  follow: z.boolean().default(false),
  leaseSeconds: wholeNumber("--lease-seconds").optional(),
  resultsDir: z.string().default("results"),
  json: z.boolean().default(false),
  doctor: z.boolean().default(false),
});
export type BenchmarkFlags = z.infer<typeof BenchmarkOptions>;

/** The values of `benchmark`'s (or `run`'s) flags as given: a bad one is a usage error. */
export function parseBenchmarkFlags(raw: unknown): BenchmarkFlags {
  return parseOptions(BenchmarkOptions, raw);
}
