import { SCHEMA_VERSION } from "../json-contract.js";
import { z } from "zod";
import {
  benchLlamaModel,
  defaultLlamaThreads,
  createBackend,
  localGgufFile,
  measureSpeed,
  preflightAll,
  resolveModel,
  type LlamaBenchConfig,
  type LlamaBenchResult,
  type SpeedReport,
} from "../llm/index.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { parseOptions } from "./parse.js";

const wholeList = (what: string) =>
  z
    .string()
    .transform((text) => text.split(",").map((part) => Number(part.trim())))
    .pipe(z.array(z.number().int(`${what} must be whole numbers`).positive(`${what} must be at least 1`)).min(1));

const OptionsSchema = z.object({
  prompt: z.string().min(1, "needs some text"),
  runs: z.coerce.number().int().min(1).max(100),
  maxTokens: z.coerce.number().int().min(1).max(32_768),
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  config: z.string().optional(),
  json: z.boolean().default(false),
  threads: wholeList("--threads").optional(),
  contextSize: wholeList("--context-size"),
  batchSize: wholeList("--batch-size"),
  pp: z.coerce.number().int().min(1).max(65_536),
  tg: z.coerce.number().int().min(1).max(65_536),
});

/** `koderz speed-test`, once its flags parse: every model checked first, then timed. */
export async function speedTest(models: string[], raw: unknown): Promise<void> {
  const options = parseOptions(OptionsSchema, raw);
  const config = loadModelConfigAnnounced(options.config);
  const isLlama = (model: string) => resolveModel(model, { config }).provider === "llama";
  const served = models.filter((model) => !isLlama(model));
  const backends = served.map((model) =>
    createBackend(model, {
      config,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      concurrency: 1,
      onRetry: (event) =>
        process.stderr.write(`${event.model}: ${event.failure.message}; retrying in ${(event.delayMs / 1000).toFixed(1)} s\n`),
    }),
  );
  // Every model is checked (and every GGUF found or downloaded) before any is timed: a bad key fails now, not after minutes of runs.
  await preflightAll(served.map((model, i) => [model, backends[i]!] as const));
  const files = new Map<string, string>();
  for (const model of models.filter(isLlama)) files.set(model, await localGgufFile(resolveModel(model, { config }).providerModel));

  const reports: SpeedReport[] = [];
  for (const backend of backends) {
    process.stderr.write(`${backend.model}: `);
    reports.push(
      await measureSpeed(backend, {
        prompt: options.prompt,
        runs: options.runs,
        maxTokens: options.maxTokens,
        onRun: () => process.stderr.write("."),
      }),
    );
    process.stderr.write(" done\n");
  }
  const benches: (LlamaBenchResult & { model: string })[] = [];
  for (const [model, file] of files) {
    for (const setting of configurations(options)) {
      const threads = setting.threads ?? defaultLlamaThreads();
      process.stderr.write(`${model}: threads ${threads}${setting.threads === undefined ? " (the cores this process may use)" : ""}, context ${setting.contextSize}, batch ${setting.batchSize} ... `);
      benches.push({ model, ...(await benchLlamaModel(file, setting, { promptTokens: options.pp, generateTokens: options.tg })) });
      process.stderr.write("done\n");
    }
  }
  if (options.json) {
    // docs/schemas/speed-test.schema.json: what a server did not report is null.
    const models = reports.map((report) => ({
      ...report,
      runs: report.runs.map((run) => ({ ...run, timeToFirstTokenMs: run.timeToFirstTokenMs ?? null, tokensPerSecond: run.tokensPerSecond ?? null })),
      medianTimeToFirstTokenMs: report.medianTimeToFirstTokenMs ?? null,
      medianTokensPerSecond: report.medianTokensPerSecond ?? null,
    }));
    const llama = benches.map((bench) => ({ ...bench, threads: bench.threads ?? null }));
    process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, models, llama }, null, 2) + "\n");
    return;
  }
  if (reports.length) process.stdout.write(speedTable(reports));
  if (benches.length) process.stdout.write(llamaTable(benches, options.pp, options.tg));
}

function configurations(options: z.infer<typeof OptionsSchema>): LlamaBenchConfig[] {
  const threads: (number | undefined)[] = options.threads ?? [undefined];
  return threads.flatMap((thread) =>
    options.contextSize.flatMap((contextSize) =>
      options.batchSize.map((batchSize) => ({ ...(thread !== undefined ? { threads: thread } : {}), contextSize, batchSize })),
    ),
  );
}

function speedTable(reports: SpeedReport[]): string {
  const header = ["model", "runs", "first token", "latency", "tokens/s", "output tokens"];
  const rows = reports.map((report) => [
    report.model,
    String(report.runs.length),
    report.medianTimeToFirstTokenMs === undefined ? "-" : `${Math.round(report.medianTimeToFirstTokenMs)} ms`,
    `${Math.round(report.medianLatencyMs)} ms`,
    report.medianTokensPerSecond === undefined ? "-" : report.medianTokensPerSecond.toFixed(1),
    String(Math.round(report.medianOutputTokens)),
  ]);
  return table(header, rows, "(medians over the runs)");
}

function llamaTable(results: (LlamaBenchResult & { model: string })[], pp: number, tg: number): string {
  const header = ["model", "threads", "context", "batch", "load", `pp${pp} t/s`, `tg${tg} t/s`];
  const rows = results.map((result) => [
    result.model,
    String(result.threadsUsed),
    String(result.contextSize),
    String(result.batchSize),
    `${Math.round(result.loadMs)} ms`,
    result.promptTokensPerSecond.toFixed(1),
    result.generationTokensPerSecond.toFixed(1),
  ]);
  return table(header, rows, "(in process through node-llama-cpp; one run per configuration)");
}

function table(header: string[], rows: string[][], note: string): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line), note, ""].join("\n");
}
