import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * The training metrics file: JSON Lines, one object per line, each with a `type`:
 *   "episode"    every episode: return, success, cost, regret and cumulative regret;
 *   "update"     every policy update (a batch of episodes): means, mode mix, losses;
 *   "comparison" once at the end: the table against the baselines;
 *   "held-out-table" replay: the held-out table pooled over seeds, and the quality-cost curve.
 * Every line carries `env` ("synthetic" lines come from the simulator, not from models).
 * The schemas are exported so reports can read the file back with validation.
 */
const envField = z.enum(["synthetic", "replay", "live"]);
const modeMix = z.object({ fast: z.number(), standard: z.number(), deep: z.number() });

export const episodeMetricSchema = z.object({
  type: z.literal("episode"),
  env: envField,
  episode: z.number().int(),
  taskId: z.string(),
  mode: z.string(),
  agents: z.array(z.string()),
  return: z.number(),
  success: z.boolean(),
  tokens: z.number(),
  costUsd: z.number(),
  oracleReturn: z.number().nullable(),
  regret: z.number().nullable(),
  cumulativeRegret: z.number().nullable(),
});
export type EpisodeMetric = z.infer<typeof episodeMetricSchema>;

export const updateMetricSchema = z.object({
  type: z.literal("update"),
  env: envField,
  update: z.number().int(),
  episodes: z.number().int(),
  meanReturn: z.number(),
  successRate: z.number(),
  meanCostUsd: z.number(),
  meanTokens: z.number(),
  cumulativeRegret: z.number().nullable(),
  modeMix,
  loss: z.number(),
  entropy: z.number(),
  entropyCoefficient: z.number(),
  seconds: z.number(),
});
export type UpdateMetric = z.infer<typeof updateMetricSchema>;

export const comparisonMetricSchema = z.object({
  type: z.literal("comparison"),
  env: envField,
  episodes: z.number().int(),
  rows: z.array(
    z.object({
      name: z.string(),
      episodes: z.number().int(),
      successRate: z.number(),
      meanTokens: z.number(),
      meanCostUsd: z.number(),
      meanReturn: z.number(),
      fractionOfOracle: z.number().nullable(),
      cumulativeRegret: z.number().nullable(),
      modeMix,
    }),
  ),
});

const intervalSchema = z.object({ mean: z.number(), low: z.number(), high: z.number() });

/** A replay's held-out table pooled over seeds (held-out-table.ts), and the quality-cost curve when measured. */
export const heldOutTableMetricSchema = z.object({
  type: z.literal("held-out-table"),
  env: envField,
  seeds: z.array(z.number().int()),
  episodes: z.number().int(),
  costUnit: z.enum(["usd", "tokens"]),
  dearest: z.string().nullable(),
  rows: z.array(
    z.object({
      name: z.string(),
      episodes: z.number().int(),
      success: intervalSchema,
      costPerTask: intervalSchema,
      costPerSolved: z.number().nullable(),
      successOfDearest: z.number().nullable(),
      costOfDearest: z.number().nullable(),
      cumulativeRegret: z.number().nullable(),
      escalations: z.number(),
    }),
  ),
  verdicts: z.array(z.string()),
  reach: z.number().nullable().optional(),
  curve: z.array(z.object({ costWeight: z.number(), success: z.number(), costPerTask: z.number() })).optional(),
});
export type HeldOutTableMetric = z.infer<typeof heldOutTableMetricSchema>;

export const metricLineSchema = z.discriminatedUnion("type", [episodeMetricSchema, updateMetricSchema, comparisonMetricSchema, heldOutTableMetricSchema]);
export type MetricLine = z.infer<typeof metricLineSchema>;

/** Appends metric lines to a file as they come, so a stopped run still leaves its curve. */
export class MetricsFile {
  private readonly stream: WriteStream;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.stream = createWriteStream(file, { flags: "w" });
  }

  write(line: MetricLine): void {
    this.stream.write(JSON.stringify(line) + "\n");
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Reads a metrics file back, validating each line. */
export function parseMetricLines(text: string): MetricLine[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => metricLineSchema.parse(JSON.parse(line)));
}
