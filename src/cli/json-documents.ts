import { z } from "zod";
import {
  EscalationFiguresSchema,
  ExperimentExportRowSchema,
  RunListDocumentSchema,
  RunListingSchema,
  RunSummarySchema,
  SchemaVersionField,
} from "../store/index.js";
import { AGENTS } from "../../agents/agent.js";
import { cascadeRuleSchema } from "../../policy/rule-policy.js";
import { AuditReportSchema } from "../evaluation/audit/audit-report.js";
import type { SolveReport } from "../orchestrator/solve/solve-session.js";
import { DoctorJsonSchema } from "./doctor-json.js";
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
  /** A laddered run's escalations per rung (as in its summary); null without a ladder. */
  escalations: EscalationFiguresSchema.nullable(),
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

const count = z.number().int().nonnegative();
const SuiteTotals = { files: count, tests: count, passed: count, failed: count, skipped: count, timedOutFiles: z.array(z.string()), seconds: z.number().nonnegative() };

/** `koderz solve --json`, and results/<runId>.solve.json. */
export const SolveDocumentSchema = z.strictObject({
  schemaVersion: SchemaVersionField,
  runId: z.string(),
  experimentId: z.string(),
  taskId: z.string(),
  title: z.string(),
  /** The mode chosen (--mode, or the policy's); with --ladder, the mode the climb started in. */
  mode: z.enum(["fast", "standard", "deep"]),
  status: z.enum(["solved", "not solved", "unverified"]),
  success: z.boolean(),
  verdict: z.string(),
  diffPath: z.string(),
  reportPath: z.string(),
  filesChanged: z.array(z.string()),
  testCommand: z.string(),
  testRuns: count,
  finalTests: z.strictObject({ passed: count, failed: count }).nullable(),
  /** The whole suite before and after the change; null with a hidden test patch (SWE-bench instances). */
  grade: z
    .strictObject({
      command: z.string(),
      fileTimeoutSeconds: z.number().positive(),
      before: z.strictObject({ ...SuiteTotals, cached: z.boolean() }),
      after: z.strictObject(SuiteTotals),
      afterFiles: z.array(z.strictObject({ file: z.string(), passed: count, failed: count, skipped: count, timedOut: z.boolean(), seconds: z.number().nonnegative() })),
      notRunAgain: z.array(z.string()),
      newFailures: z.array(z.strictObject({ id: z.string(), why: z.enum(["fails", "timed out", "not run"]) })),
      fixed: z.array(z.string()),
      flaky: z.array(z.string()),
      alreadyPassing: z.array(z.string()),
      /** The Tester's reproduction, run without the change and with it; null when no test was named and none was written. */
      reproduction: z
        .strictObject({ tests: z.array(z.string()), failedBefore: z.boolean(), passesAfter: z.boolean(), beforeTail: z.string().nullable(), afterTail: z.string().nullable() })
        .nullable(),
    })
    .nullable(),
  failToPass: z.strictObject({ passing: count, total: count }),
  passToPass: z.strictObject({ passing: count, total: count }),
  toolCalls: count,
  modelCalls: count,
  inputTokens: count,
  outputTokens: count,
  costUsd: z.number().nonnegative(),
  wallSeconds: z.number().nonnegative(),
  stoppedBy: z.string().nullable(),
  review: z.strictObject({ accept: z.boolean(), feedback: z.string() }).nullable(),
  applied: z.strictObject({ branch: z.string(), commit: z.string(), forced: z.boolean() }).nullable(),
  notApplied: z.strictObject({ reason: z.string(), files: z.array(z.string()), branch: z.string() }).nullable(),
  ladder: z
    .strictObject({
      rungs: z.string(),
      escalations: count,
      climbed: z.array(
        z.strictObject({
          /** 1 is the cheapest rung. */
          rung: z.number().int().positive(),
          mode: z.enum(["fast", "standard", "deep"]),
          agent: z.enum(AGENTS).nullable(),
          model: z.string().nullable(),
          /** The rung's own test run; null on the last rung, which the grade judges. */
          tests: z.enum(["passed", "failed"]).nullable(),
          costUsd: z.number().nonnegative(),
          tokens: count,
        }),
      ),
    })
    .nullable(),
});
/** The report type the solve builds is what this schema describes, both ways: a field added on one side only fails the build. */
export const SOLVE_REPORT_AGREES: SolveReport extends z.input<typeof SolveDocumentSchema> ? (z.output<typeof SolveDocumentSchema> extends SolveReport ? true : false) : false = true;

const share = z.number().min(0).max(1);
const ModeMix = z.strictObject({ fast: share, standard: share, deep: share });
const MeanInterval = z.strictObject({ mean: z.number(), low: z.number(), high: z.number() });
const CandidateFigures = z.strictObject({
  name: z.string(),
  kind: z.enum(["learned", "rule"]),
  successShare: z.number(),
  successShareLow: z.number(),
  costShare: z.number(),
  meanReturn: z.number(),
  floorHolds: z.boolean(),
});

/** `koderz train-meta --json`: what the session compared, by environment (`source`). */
export const TrainMetaDocumentSchema = z.discriminatedUnion("source", [
  /** synthetic: the learned policy against every fixed mode and the oracle on held-out episodes. */
  z.strictObject({
    schemaVersion: SchemaVersionField,
    source: z.literal("synthetic"),
    episodes: count,
    rows: z.array(
      z.strictObject({
        name: z.string(),
        episodes: count,
        successRate: share,
        meanTokens: z.number().nonnegative(),
        meanCostUsd: z.number().nonnegative(),
        meanReturn: z.number(),
        fractionOfOracle: z.number().nullable(),
        cumulativeRegret: z.number().nullable(),
        modeMix: ModeMix,
      }),
    ),
    summary: z.strictObject({
      learnedReturn: z.number(),
      bestFixedReturn: z.number(),
      /** null when the environment has no oracle. */
      fractionOfOracle: z.number().nullable(),
      regretGrowthRatio: z.number().nullable(),
    }),
  }),
  /** live: the training episodes themselves (no oracle, so no regret). */
  z.strictObject({
    schemaVersion: SchemaVersionField,
    source: z.literal("live"),
    episodes: count,
    successRate: share,
    meanReturn: z.number(),
    meanTokens: z.number().nonnegative(),
    meanCostUsd: z.number().nonnegative(),
    modeMix: ModeMix,
    cumulativeRegret: z.null(),
    regret: z.string(),
  }),
  /** replay: the held-out table pooled over seeds, the ladder, and each seed's choice of controller. */
  z.strictObject({
    schemaVersion: SchemaVersionField,
    source: z.literal("replay"),
    seeds: z.array(z.number().int()),
    episodes: count,
    costUnit: z.enum(["usd", "tokens"]),
    dearest: z.string().nullable(),
    rows: z.array(
      z.strictObject({
        name: z.string(),
        episodes: count,
        success: MeanInterval,
        costPerTask: MeanInterval,
        costPerSolved: z.number().nullable(),
        successOfDearest: z.number().nullable(),
        costOfDearest: z.number().nullable(),
        cumulativeRegret: z.number().nullable(),
        escalations: z.number().nonnegative(),
      }),
    ),
    verdicts: z.array(z.string()),
    /** The least share of the dearest arm's cost that buys 95 % of its success in hindsight; null when out of reach or unknown. */
    reach: share.nullable(),
    ladder: z.array(z.string()),
    evalLadder: z.array(z.string()),
    curve: z.array(z.strictObject({ costWeight: z.number(), success: share, costPerTask: z.number() })).nullable(),
    selections: z.array(
      z.strictObject({
        seed: z.number().int(),
        chosen: z.union([z.strictObject({ kind: z.literal("learned"), name: z.string() }), z.strictObject({ kind: z.literal("rule"), name: z.string(), rule: cascadeRuleSchema })]),
        threshold: z.number().nullable(),
        candidates: z.array(CandidateFigures),
      }),
    ),
  }),
]);

/** Every document, by the name of its file in docs/schemas/ and what writes it. */
export const JSON_DOCUMENTS: readonly { name: string; writtenBy: string; schema: z.ZodType }[] = [
  { name: "run-summary", writtenBy: "results/<runId>.json, `benchmark --json`, `run --json`, `results export --format json`, MCP get_run", schema: RunSummarySchema },
  { name: "run-list", writtenBy: "`results list --json`", schema: RunListDocumentSchema },
  { name: "results-show", writtenBy: "`results show RUN --json`", schema: ResultsShowDocumentSchema },
  { name: "experiment-row", writtenBy: "each line of `results export --format jsonl`; MCP query_experiments' items", schema: ExperimentExportRowSchema },
  { name: "compare", writtenBy: "`compare --json`, MCP compare_runs", schema: CompareDocumentSchema },
  { name: "evaluate", writtenBy: "`evaluate --json`", schema: EvaluateDocumentSchema },
  { name: "sandbox-status", writtenBy: "`sandbox status --json`", schema: SandboxStatusDocumentSchema },
  { name: "speed-test", writtenBy: "`speed-test --json`", schema: SpeedTestDocumentSchema },
  { name: "doctor", writtenBy: "`doctor --json`", schema: DoctorJsonSchema },
  { name: "audit", writtenBy: "`audit --json`", schema: AuditReportSchema },
  { name: "solve", writtenBy: "`solve --json`, results/<runId>.solve.json", schema: SolveDocumentSchema },
  { name: "train-meta", writtenBy: "`train-meta --json` (synthetic, live or replay: see `source`)", schema: TrainMetaDocumentSchema },
];

/** The JSON Schema file of one document: what `npm run schemas` writes to docs/schemas/. */
export function jsonSchemaText(document: (typeof JSON_DOCUMENTS)[number]): string {
  const schema = z.toJSONSchema(document.schema, { target: "draft-2020-12", unrepresentable: "any" });
  return JSON.stringify({ title: document.name, description: `Written by ${document.writtenBy}.`, ...schema }, null, 2) + "\n";
}
