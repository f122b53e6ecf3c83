import { z } from "zod";
import { KoderzError } from "../errors.js";
import { createBackend, resolveModel, type ModelConfig } from "../llm/index.js";
import type { DoctorJson } from "./doctor-json.js";
import { doctorModel, RetryLog, type DoctorReport, type RowStatus } from "./doctor-checks.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { parseOptions } from "./parse.js";
import { renderTable } from "./table.js";

const OptionsSchema = z.object({
  quick: z.boolean().default(false),
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  config: z.string().optional(),
  maxProbeUsd: z.coerce.number().min(0, "must be 0 or more").max(5, "at most 5 dollars"),
  json: z.boolean().default(false),
});

/** `koderz doctor`, once its flags parse. */
export async function doctorCommand(models: string[], raw: unknown): Promise<void> {
  const options = parseOptions(OptionsSchema, raw);
  const config = loadModelConfigAnnounced(options.config);
  const reports = await runDoctor(models, {
    config,
    quick: options.quick,
    maxProbeUsd: options.maxProbeUsd,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    onModel: (model) => process.stderr.write(`checking ${model} ...\n`),
  });
  process.stdout.write(options.json ? `${JSON.stringify(doctorJson(reports), null, 2)}\n` : renderDoctor(reports));
  failIfAnyFailed(reports);
}

export interface RunDoctorOptions {
  config?: ModelConfig;
  baseUrl?: string;
  quick?: boolean;
  maxProbeUsd?: number;
  onModel?: (model: string) => void;
  signal?: AbortSignal;
}

/**
 * Every model checked, one after another (their answers would otherwise race for one local
 * server). A doctor's backend retries little and waits little: it must answer in seconds.
 */
export async function runDoctor(models: readonly string[], options: RunDoctorOptions = {}): Promise<DoctorReport[]> {
  const reports: DoctorReport[] = [];
  for (const model of [...new Set(models)]) {
    options.onModel?.(model);
    const resolve = { ...(options.config ? { config: options.config } : {}), ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) };
    const spec = resolveModel(model, resolve);
    const retries = new RetryLog();
    const backend = createBackend(model, {
      ...resolve,
      concurrency: 1,
      maxAttempts: 3,
      timeoutMs: spec.provider === "openai-compatible" ? 60_000 : 180_000,
      retry: { baseDelayMs: 500, maxDelayMs: 4_000, maxRetryAfterMs: 15_000 },
      onRetry: retries.record,
    });
    reports.push(
      await doctorModel(backend, spec, retries, {
        ...(options.quick ? { quick: true } : {}),
        ...(options.maxProbeUsd !== undefined ? { maxProbeUsd: options.maxProbeUsd } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
  }
  return reports;
}

const MARK: Record<RowStatus, string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

/** One table per model: check, status, what was found, and what koderz does about it or how to fix it. */
export function renderDoctor(reports: readonly DoctorReport[]): string {
  return reports
    .map((report) => {
      const rows = report.rows.map((row) => [row.check, MARK[row.status], row.detail, row.action ?? ""]);
      const speed = [
        report.latencyMs !== null ? `latency ${report.latencyMs} ms` : undefined,
        report.tokensPerSecond !== null ? `${report.usageEstimated ? "~" : ""}${report.tokensPerSecond} tokens/s` : undefined,
        report.timeToFirstTokenMs !== null ? `first token ${report.timeToFirstTokenMs} ms` : undefined,
        `${report.inputTokens + report.outputTokens}${report.usageEstimated ? " (estimated)" : ""} tokens`,
        report.costUsd !== null ? `$${report.costUsd.toFixed(4)}` : "cost unknown",
      ].filter(Boolean);
      return `${report.model}: ${verdictOf(report)}\n${renderTable(["check", "status", "found", "koderz will / fix"], rows)}${speed.join(", ")}\n`;
    })
    .join("\n");
}

function verdictOf(report: DoctorReport): string {
  const fails = report.rows.filter((row) => row.status === "fail").length;
  const warns = report.rows.filter((row) => row.status === "warn").length;
  if (fails) return `${fails} check${fails === 1 ? "" : "s"} failed`;
  return warns ? `ready, with ${warns} warning${warns === 1 ? "" : "s"}` : "ready";
}

/** The JSON contract: schemaVersion 1, camelCase, null for what is unknown (docs/schemas/doctor.schema.json). */
export function doctorJson(reports: readonly DoctorReport[]): DoctorJson {
  const models = reports.map((report) => ({ ...report, ready: !report.rows.some((row) => row.status === "fail") }));
  return { schemaVersion: 1, ready: models.every((model) => model.ready), models };
}

export function failIfAnyFailed(reports: readonly DoctorReport[]): void {
  const failed = reports.filter((report) => report.rows.some((row) => row.status === "fail"));
  if (failed.length === 0) return;
  const lines = failed.map((report) => `${report.model}: ${report.rows.filter((row) => row.status === "fail").map((row) => row.check).join(", ")}`);
  throw new KoderzError("model_unavailable", `${failed.length} of ${reports.length} models failed a check (${lines.join("; ")})`, "each failed row above says how to fix it");
}
