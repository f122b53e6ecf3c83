import type { ModelBackend } from "./types.js";

export interface SpeedRun {
  latencyMs: number;
  timeToFirstTokenMs?: number;
  outputTokens: number;
  /** Output tokens per second of generation, after the first token; undefined if the server reports no usage. */
  tokensPerSecond?: number;
}

export interface SpeedReport {
  model: string;
  runs: SpeedRun[];
  /** Medians over the runs: one slow outlier (a cold start) does not skew them. */
  medianLatencyMs: number;
  medianTimeToFirstTokenMs?: number;
  medianTokensPerSecond?: number;
  medianOutputTokens: number;
}

export interface SpeedTestOptions {
  prompt: string;
  runs: number;
  maxTokens: number;
  /** Told after each run, e.g. for progress on stderr. */
  onRun?: (run: SpeedRun, index: number) => void;
}

/** Times `runs` streamed calls one after another, so each has the server to itself. */
export async function measureSpeed(backend: ModelBackend, options: SpeedTestOptions): Promise<SpeedReport> {
  const runs: SpeedRun[] = [];
  for (let index = 0; index < options.runs; index++) {
    const response = await backend.chat({
      messages: [{ role: "user", content: options.prompt }],
      maxTokens: options.maxTokens,
      temperature: 0,
      stream: true,
      // A different seed per run, so no layer in between can hand back an earlier answer.
      seed: index,
    });
    const run: SpeedRun = { latencyMs: response.latencyMs, outputTokens: response.usage.output };
    if (response.timeToFirstTokenMs !== undefined) run.timeToFirstTokenMs = response.timeToFirstTokenMs;
    const tokensPerSecond = generationSpeed(run);
    if (tokensPerSecond !== undefined) run.tokensPerSecond = tokensPerSecond;
    runs.push(run);
    options.onRun?.(run, index);
  }
  const report: SpeedReport = {
    model: backend.model,
    runs,
    medianLatencyMs: median(runs.map((run) => run.latencyMs))!,
    medianOutputTokens: median(runs.map((run) => run.outputTokens))!,
  };
  const ttft = median(runs.flatMap((run) => (run.timeToFirstTokenMs === undefined ? [] : [run.timeToFirstTokenMs])));
  if (ttft !== undefined) report.medianTimeToFirstTokenMs = ttft;
  const speed = median(runs.flatMap((run) => (run.tokensPerSecond === undefined ? [] : [run.tokensPerSecond])));
  if (speed !== undefined) report.medianTokensPerSecond = speed;
  return report;
}

/**
 * Decoding speed: tokens after the first, over the time after the first token. Counting the
 * wait for the first token too would mix prompt processing into generation speed.
 */
function generationSpeed(run: SpeedRun): number | undefined {
  if (run.outputTokens <= 0) return undefined;
  const ttft = run.timeToFirstTokenMs;
  if (ttft !== undefined && run.latencyMs > ttft && run.outputTokens > 1) {
    return (run.outputTokens - 1) / ((run.latencyMs - ttft) / 1000);
  }
  return run.latencyMs > 0 ? run.outputTokens / (run.latencyMs / 1000) : undefined;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
