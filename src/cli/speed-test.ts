import type { Command } from "commander";
import { z } from "zod";
import { createBackend, measureSpeed, preflightAll, type SpeedReport } from "../llm/index.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { parseOptions } from "./parse.js";

const DEFAULT_PROMPT = "Write a Python function that returns the n-th Fibonacci number, with a short docstring.";

const OptionsSchema = z.object({
  prompt: z.string().min(1, "needs some text"),
  runs: z.coerce.number().int().min(1).max(100),
  maxTokens: z.coerce.number().int().min(1).max(32_768),
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  config: z.string().optional(),
  json: z.boolean().default(false),
});

/** `koderz speed-test MODEL... [--prompt TEXT] [--runs N] [--json]` */
export function registerSpeedTestCommand(program: Command): void {
  program
    .command("speed-test")
    .description("measure models' speed: time to first token, latency and tokens per second (streaming)")
    .argument("<models...>", "model ids, e.g. kimi-k2 ollama:qwen3-coder:30b")
    .option("--prompt <text>", "the prompt each run sends", DEFAULT_PROMPT)
    .option("--runs <n>", "calls per model; the table shows medians", "3")
    .option("--max-tokens <n>", "longest answer per call", "256")
    .option("--base-url <url>", "send to this OpenAI-compatible server (or Ollama host for ollama: ids)")
    .option("--config <path>", "model config file (default: ./koderz.config.json when present)")
    .option("--json", "print the measurements as JSON on stdout")
    .action(async (models: string[], raw: unknown) => {
      const options = parseOptions(OptionsSchema, raw);
      const config = loadModelConfigAnnounced(options.config);
      const backends = models.map((model) =>
        createBackend(model, {
          config,
          ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
          concurrency: 1,
          onRetry: (event) =>
            process.stderr.write(`${event.model}: ${event.failure.message}; retrying in ${(event.delayMs / 1000).toFixed(1)} s\n`),
        }),
      );
      // Every model is checked before any is timed: a bad key fails now, not after minutes of runs.
      await preflightAll(models.map((model, i) => [model, backends[i]!] as const));

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
      process.stdout.write(options.json ? JSON.stringify(reports, null, 2) + "\n" : speedTable(reports));
    });
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
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line), "(medians over the runs)", ""].join("\n");
}
