import { z } from "zod";
import {
  ExperimentExportRowSchema,
  RunListDocumentSchema,
  RunListingSchema,
  RunSummarySchema,
  SchemaVersionField,
} from "../store/index.js";
import { ArmQualitySchema } from "./quality-figures.js";

/**
 * The JSON koderz prints and writes, one zod schema per document. The contract (decided for every
 * command): camelCase keys, shares as fractions in [0, 1], `schemaVersion` on every top-level
 * document, null (never 0) for what is not known. docs/schemas/<name>.schema.json is generated
 * from JSON_DOCUMENTS (`npm run schemas`), and tests/json-contract.test.ts checks both that the
 * files are current and that each command's output validates against its file.
 */

const Interval = z.strictObject({ lower: z.number(), upper: z.number(), confidence: z.number(), resamples: z.number().int() });

export const ComparedRunSchema = z.strictObject({
  /** "name (id)", plus ":arm" when the run has several arms. */
  label: z.string(),
  name: z.string(),
  runId: z.string(),
  arm: z.string(),
  stage: z.string().nullable(),
  mode: z.string(),
  models: z.array(z.string()),
  suite: z.string().nullable(),
  status: z.string(),
  startTime: z.string(),
  attemptedProblems: z.number().int().nonnegative(),
  problems: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  successRate: z.number().min(0).max(1),
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  costUsd: z.number().nonnegative().nullable(),
  costPerSolved: z.number().nonnegative().nullable(),
});

export const PairwiseComparisonSchema = z.strictObject({
  baseline: z.string(),
  candidate: z.string(),
  wins: z.number().int().nonnegative(),
  losses: z.number().int().nonnegative(),
  ties: z.number().int().nonnegative(),
  successRateDifference: z.number(),
  interval: Interval,
  mcnemarP: z.number().min(0).max(1),
  byCategory: z.array(z.strictObject({ category: z.string(), wins: z.number().int(), losses: z.number().int(), ties: z.number().int() })).nullable(),
  /** The problems behind wins, losses and differences (the candidate solved and the baseline did not, ...). */
  problems: z.strictObject({ won: z.array(z.string()), lost: z.array(z.string()), differ: z.array(z.string()) }),
});

export const CompareDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  runs: z.array(ComparedRunSchema),
  ordering: z.enum(["stage", "given"]),
  sharedProblems: z.array(z.string()),
  note: z.string().nullable(),
  pairs: z.array(PairwiseComparisonSchema),
  gates: z.strictObject({
    failBelow: z.number().min(0).max(1).nullable(),
    failOnRegression: z.boolean(),
    alpha: z.number(),
    failures: z.array(z.string()),
  }),
});
export type CompareDocument = z.infer<typeof CompareDocumentSchema>;

export const ResultsShowDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  run: RunListingSchema.extend({ config: z.record(z.string(), z.unknown()) }),
  experiments: z.array(ExperimentExportRowSchema),
  quality: z.array(ArmQualitySchema),
  failedJobs: z.array(
    z.strictObject({ runId: z.string(), arm: z.string(), problemId: z.string(), attempts: z.number().int(), error: z.string(), failedAt: z.string() }),
  ),
});
export type ResultsShowDocument = z.infer<typeof ResultsShowDocumentSchema>;

export const EvaluateDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  samples: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  problems: z.number().int().nonnegative(),
  /** "pass@1": 0.5 ...; a k without enough samples for every problem is left out. */
  passAtK: z.record(z.string().regex(/^pass@\d+$/), z.number().min(0).max(1)),
  resultsFile: z.string(),
  /** --save-run: the run the samples were imported as. */
  runId: z.string().nullable(),
});
export type EvaluateDocument = z.infer<typeof EvaluateDocumentSchema>;

export const SandboxStatusDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  docker: z.strictObject({
    engine: z.string(),
    answers: z.boolean(),
    image: z.string(),
    imageId: z.string().nullable(),
    imageCreated: z.string().nullable(),
    ready: z.boolean(),
    /** The engine's cgroup version; the container's cgroup holds a batch, none holds one program. */
    cgroupVersion: z.union([z.literal(1), z.literal(2)]).nullable(),
  }),
  /** `koderz solve`'s image; null when the engine does not answer. */
  workspace: z
    .strictObject({
      image: z.string(),
      present: z.boolean(),
      upToDate: z.boolean(),
      contentKey: z.string().nullable(),
      wantedContentKey: z.string(),
    })
    .nullable(),
  process: z.strictObject({
    available: z.boolean(),
    problem: z.string().nullable(),
    /** Inside bubblewrap, on a root of Python and numpy alone. */
    confined: z.boolean(),
    privateNetwork: z.boolean(),
    privatePids: z.boolean(),
    privateIpc: z.boolean(),
    /** Each program has an IPC namespace of its own (as root). */
    programIpc: z.boolean(),
    /** Each program runs under koderz's seccomp filter (no namespaces, mounts, BPF). */
    syscallFilter: z.boolean(),
    programUids: z.boolean(),
    batchCgroup: z.boolean(),
  }),
});

export const SpeedTestDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  models: z.array(
    z.strictObject({
      model: z.string(),
      runs: z.array(
        z.strictObject({
          latencyMs: z.number(),
          timeToFirstTokenMs: z.number().nullable(),
          outputTokens: z.number(),
          tokensPerSecond: z.number().nullable(),
        }),
      ),
      medianLatencyMs: z.number(),
      medianTimeToFirstTokenMs: z.number().nullable(),
      medianTokensPerSecond: z.number().nullable(),
      medianOutputTokens: z.number(),
    }),
  ),
  llama: z.array(
    z.strictObject({
      model: z.string(),
      path: z.string(),
      threads: z.number().int().nullable(),
      contextSize: z.number().int(),
      batchSize: z.number().int(),
      threadsUsed: z.number().int(),
      loadMs: z.number(),
      promptTokens: z.number().int(),
      promptTokensPerSecond: z.number(),
      generatedTokens: z.number().int(),
      generationTokensPerSecond: z.number(),
    }),
  ),
});

/** Every document, by the name of its file in docs/schemas/ and what writes it. */
export const JSON_DOCUMENTS: readonly { name: string; writtenBy: string; schema: z.ZodType }[] = [
  { name: "run-summary", writtenBy: "results/<runId>.json, `benchmark --json`, `results export --format json`, MCP get_run", schema: RunSummarySchema },
  { name: "run-list", writtenBy: "`results list --json`", schema: RunListDocumentSchema },
  { name: "results-show", writtenBy: "`results show RUN --json`", schema: ResultsShowDocumentSchema },
  { name: "experiment-row", writtenBy: "each line of `results export --format jsonl`; MCP query_experiments' items", schema: ExperimentExportRowSchema },
  { name: "compare", writtenBy: "`compare --json`, MCP compare_runs", schema: CompareDocumentSchema },
  { name: "evaluate", writtenBy: "`evaluate --json`", schema: EvaluateDocumentSchema },
  { name: "sandbox-status", writtenBy: "`sandbox status --json`", schema: SandboxStatusDocumentSchema },
  { name: "speed-test", writtenBy: "`speed-test --json`", schema: SpeedTestDocumentSchema },
];

/** The JSON Schema file of one document: what `npm run schemas` writes to docs/schemas/. */
export function jsonSchemaText(document: (typeof JSON_DOCUMENTS)[number]): string {
  const schema = z.toJSONSchema(document.schema, { target: "draft-2020-12", unrepresentable: "any" });
  return JSON.stringify({ title: document.name, description: `Written by ${document.writtenBy}.`, ...schema }, null, 2) + "\n";
}
