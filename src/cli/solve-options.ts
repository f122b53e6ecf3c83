import { z } from "zod";
import { MODES } from "../../policy/modes-and-agents.js";
import { DEFAULT_FRONTIER_MODEL, DEFAULT_LOCAL_MODEL } from "./benchmark-flags.js";
import { wholeNumber } from "./benchmark-options.js";
import { parseOptions } from "./parse.js";
import { MAX_TOOL_CALLS_LIMIT } from "./solve-flags.js";

/** The values of `koderz solve`'s flags, checked and typed: loaded once the flags combine (solve-flags.ts). */
export const SolveOptions = z.object({
  repo: z.string().optional(),
  issue: z.string().optional(),
  sweInstance: z.string().optional(),
  instanceId: z.string().optional(),
  commit: z.string().optional(),
  mode: z.enum([...MODES, "auto"]).default("standard"),
  policy: z.string().optional(),
  ladder: z.string().optional(),
  localModel: z.string().default(DEFAULT_LOCAL_MODEL),
  frontierModel: z.string().default(DEFAULT_FRONTIER_MODEL),
  modelFor: z.array(z.string()).default([]),
  config: z.string().optional(),
  testCmd: z.string().min(1, "--test-cmd must not be empty").optional(),
  testTimeout: wholeNumber("--test-timeout").default(300),
  testFileTimeout: wholeNumber("--test-file-timeout").default(60),
  failToPass: z.array(z.string()).default([]),
  passToPass: z.array(z.string()).default([]),
  image: z.string().optional(),
  buildImage: z.boolean().default(false),
  network: z.boolean().default(false),
  maxToolCalls: wholeNumber("--max-tool-calls").max(MAX_TOOL_CALLS_LIMIT, `--max-tool-calls must be at most ${MAX_TOOL_CALLS_LIMIT}`).default(100),
  maxTokens: wholeNumber("--max-tokens").optional(),
  maxUsd: z.coerce.number().positive("--max-usd must be > 0").optional(),
  maxSeconds: z.coerce.number().positive("--max-seconds must be > 0").optional(),
  debugRounds: z.coerce.number().int().nonnegative().default(2),
  apply: z.boolean().default(false),
  force: z.boolean().default(false),
  branch: z.string().optional(),
  cache: z.boolean().default(false),
  tags: z.string().optional(),
  db: z.string().optional(),
  resultsDir: z.string().default("results"),
  json: z.boolean().default(false),
});
export type SolveFlags = z.infer<typeof SolveOptions>;

export function parseSolveFlags(raw: unknown): SolveFlags {
  return parseOptions(SolveOptions, raw);
}
