import { z } from "zod";
import { AGENTS } from "../../agents/agent.js";
import { BENCHMARK_MODES } from "./benchmark-runner.js";
import { LadderSchema } from "./ladder.js";

/**
 * Everything a benchmark run was started with. It is stored with the run, so --resume continues
 * with exactly the same settings and --replay re-runs them against the recorded answers.
 */
export const BenchmarkConfigSchema = z.object({
  mode: z.enum([...BENCHMARK_MODES, "auto"]),
  /** humaneval, humaneval+ or a suite file's name (runs stored before suites were files name only the first two). */
  suite: z.string().min(1),
  /** --suite: the built-in suite name or the absolute path of the suite file the tasks come from. */
  suiteSource: z.string().optional(),
  /** A repository suite (suiteSource is a SWE-bench instances file): --repos, the folder of clones named OWNER__NAME. */
  reposDir: z.string().optional(),
  /** --image-for: a repository suite's workspace image per repository (OWNER/NAME); koderz-workspace for the others. */
  images: z.record(z.string(), z.string()).optional(),
  /** A dataset file given with --dataset; otherwise the suite is found the usual way. */
  datasetPath: z.string().optional(),
  problemRange: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  problemIds: z.array(z.string()),
  localModel: z.string(),
  frontierModel: z.string(),
  modelFor: z.partialRecord(z.enum(AGENTS), z.string()),
  maxIterations: z.number().int().positive(),
  checkpointEvery: z.number().int().positive(),
  trajectories: z.number().int().positive(),
  debugRounds: z.number().int().nonnegative(),
  budget: z.object({
    maxSteps: z.number().int().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
    maxUsd: z.number().positive().optional(),
    maxSeconds: z.number().positive().optional(),
  }),
  concurrency: z.number().int().positive(),
  sandbox: z.enum(["docker", "process"]).optional(),
  /** --replay: the run whose recorded answers this one uses. */
  replayOf: z.string().optional(),
  /** --cache: reuse identical earlier answers from any run. */
  cache: z.boolean(),
  /** auto mode: the policy file that picks each task's mode and agents. */
  policyPath: z.string().optional(),
  /** auto mode: SHA-256 of the policy file when the run started; resume and replay check it (see auto-pilot.ts). */
  policySha256: z.string().optional(),
  /** auto mode, --learn: update the policy online, one episode per task. */
  learn: z.boolean().optional(),
  /** --learn: where each update is saved (default: policyPath itself). */
  policyOutPath: z.string().optional(),
  /** --config: the model config file's absolute path and SHA-256 when the run started; --resume uses it again and says when it changed. */
  modelConfigFile: z.object({ path: z.string(), sha256: z.string() }).optional(),
  /** auto mode, --ladder: the rungs the policy may Escalate to (see ladder.ts). */
  ladder: LadderSchema.optional(),
});

export type BenchmarkConfig = z.infer<typeof BenchmarkConfigSchema>;

/**
 * A run's config before its problems are listed: a new dataset run leaves problemIds out, meaning
 * every problem in problemRange, and `koderz run` leaves problemRange out, naming its problem;
 * either is filled in once the models have answered (reading HumanEval+ takes longer than finding
 * a model server down). Stored runs always have both.
 */
export type UnlistedConfig = Omit<BenchmarkConfig, "problemIds" | "problemRange"> & ProblemChoice;

/** Which problems a new run solves: a range (its problems listed or not), or problems named by id. */
export type ProblemChoice = { problemRange: [number, number]; problemIds?: string[] } | { problemIds: string[]; problemRange?: undefined };

/**
 * A stored run's config, read as today's. Runs stored before agents had one name call
 * `modelFor` `roleOverrides`, and a ladder of models' `agent` its `role`.
 */
export function parseStoredConfig(stored: unknown): ReturnType<typeof BenchmarkConfigSchema.safeParse> {
  if (!stored || typeof stored !== "object") return BenchmarkConfigSchema.safeParse(stored);
  const { roleOverrides, ladder, ...rest } = stored as Record<string, unknown>;
  const oldLadder = ladder && typeof ladder === "object" && "role" in ladder ? (ladder as Record<string, unknown>) : undefined;
  return BenchmarkConfigSchema.safeParse({
    modelFor: roleOverrides,
    ...rest,
    ...(oldLadder ? { ladder: { kind: oldLadder.kind, agent: oldLadder.role, models: oldLadder.models } } : ladder === undefined ? {} : { ladder }),
  });
}
