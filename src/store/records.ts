/**
 * What the store keeps. Every other module hands these to the store and reads them back;
 * only src/store writes run data.
 */

/** A tag is a "key:value" or bare word, e.g. "mode:zero-shot", "model:kimi-k2", "benchmark_run". */
export type Tag = string;

export type RunKind = "benchmark" | "evaluate" | "solve" | "import" | "train-meta";

export interface RunRecord {
  /** `bench_<8 hex>_<YYYYmmdd_HHMMSS>` for benchmarks. */
  runId: string;
  kind: RunKind;
  mode: string;
  /** Free-form stage label for compare: baseline, after_surgery, finetuned, ... */
  stage?: string;
  label?: string;
  startTime: string; // ISO 8601
  endTime?: string;
  /** The full config the run was started with, so --resume and --replay can rebuild it. */
  config: Record<string, unknown>;
  tags: Tag[];
  status: "running" | "finished" | "interrupted" | "failed";
}

export interface ExperimentRecord {
  experimentId: string;
  runId: string;
  problemId: string;
  /** Which arm of the run, e.g. "zero-shot" or "iterative" in a comparative run; else the mode. */
  arm: string;
  success: boolean;
  iterations: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
  finalCode?: string;
  /** The hidden-test verdict text ("passed", "failed: ...", "timed out"). */
  verdict?: string;
  category?: string;
  importance?: number;
  tags: Tag[];
}

export interface StepRecord {
  experimentId: string;
  index: number;
  agent: string; // Planner, Coder, Tester, Debugger, Reviewer, or a tool name
  model?: string;
  prompt?: string;
  response?: string;
  code?: string;
  testOutput?: string;
  visiblePassFraction?: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
}

export interface ModelCallRecord {
  requestHash: string;
  runId?: string;
  experimentId?: string;
  model: string;
  request: string; // JSON of the ChatRequest without signal
  response?: string; // JSON of the ChatResponse
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  error?: string;
  createdAt: string;
}
