import { z } from "zod";
import type { ExperimentRecord, ModelCallRecord, RunRecord, StepRecord } from "./records.js";
import { RUN_KINDS, RUN_STATUSES } from "./records.js";

/**
 * Rows as SQLite returns them, checked with zod before they become records: the database is a
 * file another version of koderz (or a person with sqlite3) may have written.
 */

const text = z.string();
const optionalText = z.string().nullable().transform((value) => value ?? undefined);
const optionalNumber = z.number().nullable().transform((value) => value ?? undefined);

const configJson = z.string().transform((value, context) => {
  const parsed = z.record(z.string(), z.unknown()).safeParse(safeJson(value));
  if (parsed.success) return parsed.data;
  context.addIssue({ code: "custom", message: "config_json is not a JSON object" });
  return z.NEVER;
});

const tagList = z
  .string()
  .nullable()
  .transform((value) => (value ? value.split("\u001f").sort() : []));

export const RunRow = z.object({
  run_id: text,
  kind: z.enum(RUN_KINDS),
  mode: text,
  stage: optionalText,
  label: optionalText,
  category: optionalText,
  importance: optionalNumber,
  status: z.enum(RUN_STATUSES),
  start_time: text,
  end_time: optionalText,
  config_json: configJson,
  /** Tags joined with the unit separator by the query (GROUP_CONCAT). */
  tags: tagList,
});

export function runFromRow(row: unknown): RunRecord {
  const r = RunRow.parse(row);
  return dropUndefined({
    runId: r.run_id,
    kind: r.kind,
    mode: r.mode,
    stage: r.stage,
    label: r.label,
    category: r.category,
    importance: r.importance,
    startTime: r.start_time,
    endTime: r.end_time,
    config: r.config_json,
    tags: r.tags,
    status: r.status,
  });
}

export const ExperimentRow = z.object({
  experiment_id: text,
  run_id: text,
  arm: text,
  problem_id: text,
  success: z.union([z.literal(0), z.literal(1)]),
  iterations: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number(),
  wall_seconds: z.number(),
  final_code: optionalText,
  verdict: optionalText,
  category: optionalText,
  importance: optionalNumber,
  suite: optionalText,
  tier: optionalText,
  score: optionalNumber,
  score_criteria: z
    .string()
    .nullable()
    .transform((value) => (value === null ? undefined : StoredCriteria.parse(safeJson(value)))),
  // Absent before schema version 3 (a read-only store is not migrated).
  measures: z
    .string()
    .nullish()
    .transform((value) => (value == null ? undefined : StoredMeasuresSchema.parse(safeJson(value)))),
  tags: tagList,
});

const StoredCriteria = z.array(
  z.object({ name: z.string(), weight: z.number(), by: z.string(), value: z.number(), detail: z.string(), error: z.string().optional() }),
);

const StoredMeasuresSchema = z.object({
  code: z
    .union([
      z.object({ cyclomatic: z.number(), meanCyclomatic: z.number(), halsteadVolume: z.number(), sloc: z.number(), maintainability: z.number() }),
      z.object({ error: z.string() }),
    ])
    .optional(),
  drafts: z.object({ inputs: z.number().int(), outputs: z.array(z.array(z.string())) }).optional(),
  draftVerdicts: z.object({ drafts: z.array(z.boolean()), hybrid: z.boolean().optional() }).optional(),
});

export function experimentFromRow(row: unknown): ExperimentRecord {
  const r = ExperimentRow.parse(row);
  return dropUndefined({
    experimentId: r.experiment_id,
    runId: r.run_id,
    problemId: r.problem_id,
    arm: r.arm,
    success: r.success === 1,
    iterations: r.iterations,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
    wallSeconds: r.wall_seconds,
    finalCode: r.final_code,
    verdict: r.verdict,
    category: r.category,
    importance: r.importance,
    suite: r.suite,
    tier: r.tier,
    score: r.score,
    scoreCriteria: r.score_criteria,
    measures: r.measures,
    tags: r.tags,
  });
}

export const StepRow = z.object({
  experiment_id: text,
  step_index: z.number().int(),
  agent: text,
  action: text,
  model: optionalText,
  prompt: optionalText,
  response: optionalText,
  code: optionalText,
  test_output: optionalText,
  visible_pass_fraction: optionalNumber,
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number(),
  latency_ms: z.number(),
});

export function stepFromRow(row: unknown): StepRecord {
  const r = StepRow.parse(row);
  return dropUndefined({
    experimentId: r.experiment_id,
    index: r.step_index,
    agent: r.agent,
    action: r.action,
    model: r.model,
    prompt: r.prompt,
    response: r.response,
    code: r.code,
    testOutput: r.test_output,
    visiblePassFraction: r.visible_pass_fraction,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
    latencyMs: r.latency_ms,
  });
}

export const ModelCallRow = z.object({
  request_hash: text,
  run_id: optionalText,
  experiment_id: optionalText,
  model: text,
  request: text,
  response: optionalText,
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: z.number(),
  latency_ms: z.number(),
  error: optionalText,
  created_at: text,
});

export function modelCallFromRow(row: unknown): ModelCallRecord {
  const r = ModelCallRow.parse(row);
  return dropUndefined({
    requestHash: r.request_hash,
    runId: r.run_id,
    experimentId: r.experiment_id,
    model: r.model,
    request: r.request,
    response: r.response,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
    latencyMs: r.latency_ms,
    error: r.error,
    createdAt: r.created_at,
  });
}

/** SQLite has no undefined and no boolean: what a record's optional field becomes in a column. */
export function nullable<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}

/** Records never carry `key: undefined` (exactOptionalPropertyTypes-friendly, and deep-equal in tests). */
function dropUndefined<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
