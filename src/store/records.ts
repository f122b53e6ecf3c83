/**
 * What the store keeps. Every other module hands these to the store and reads them back;
 * only src/store writes run data.
 */

/** A tag is a "key:value" or bare word, e.g. "mode:zero-shot", "model:kimi-k2", "benchmark_run". */
export type Tag = string;

/** The lists are the single source of the types, so the store's row checks never fall behind. */
export const RUN_KINDS = ["benchmark", "evaluate", "solve", "import", "train-meta"] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ["running", "finished", "interrupted", "failed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  /** `bench_<8 hex>_<YYYYmmdd_HHMMSS>` for benchmarks. */
  runId: string;
  kind: RunKind;
  mode: string;
  /** Free-form stage label for compare: baseline, after_surgery, finetuned, ... */
  stage?: string;
  label?: string;
  category?: string;
  importance?: number;
  startTime: string; // ISO 8601
  endTime?: string;
  /** The full config the run was started with, so --resume and --replay can rebuild it. */
  config: Record<string, unknown>;
  /** Besides these, the store tags every run `kind:<kind>`, `mode:<mode>` and `model:<m>` for config.localModel / config.frontierModel. */
  tags: Tag[];
  status: RunStatus;
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
  /** The kind of work (HumanEval runs: the suite name; suite files: the case's category). */
  category?: string;
  importance?: number;
  /** The suite the problem came from ("humaneval", "humaneval+", "coder-rubric", ...). */
  suite?: string;
  /** The problem's difficulty tier (T1-T3), when its suite gives one. */
  tier?: string;
  /** rubric: the weighted score on the 1-5 scale. */
  score?: number;
  /** rubric: how each criterion fared. */
  scoreCriteria?: StoredCriterion[];
  /** What the sandbox measured beyond the verdict: the final code's quality, the drafts' behaviour. */
  measures?: StoredMeasures;
  /** Besides these, the store tags every experiment `arm:<arm>` and `problem:<problemId>`. */
  tags: Tag[];
}

/** One rubric criterion's result as stored (see src/evaluation/scorers/scorer.ts). */
export interface StoredCriterion {
  name: string;
  weight: number;
  by: string;
  value: number;
  detail: string;
  error?: string;
}

/** Code-quality measures of one program (src/evaluation/code-measures.py). */
export interface CodeMeasures {
  /** McCabe's cyclomatic complexity: the largest of the program's functions (its module code counts as one). */
  cyclomatic: number;
  /** The mean over those blocks. */
  meanCyclomatic: number;
  halsteadVolume: number;
  /** Lines of code: neither blank, comment nor docstring. */
  sloc: number;
  /** Maintainability index, 0..100 (higher is easier to maintain). */
  maintainability: number;
}

/**
 * Deep runs: what each of the K drafts returned on the same generated inputs, as short hashes of
 * the returned value's repr ("!" + the exception's name when it raised); drafts in step order.
 */
export interface DraftBehaviour {
  inputs: number;
  outputs: string[][];
}

/**
 * Deep runs: each draft's and the hybrid's verdict from the task's own scorer (HumanEval: the
 * hidden tests), taken after the experiment ended, so no agent ever saw it; drafts in step order.
 */
export interface DraftVerdicts {
  drafts: boolean[];
  hybrid?: boolean;
}

export interface StoredMeasures {
  /** The final code's measures, or why they could not be taken (a syntax error ...). */
  code?: CodeMeasures | { error: string };
  drafts?: DraftBehaviour;
  draftVerdicts?: DraftVerdicts;
}

/** A step's agent when koderz took it itself: its own test runs, the grader's judge. */
export const STEP_BY_KODERZ = "koderz";
/** A step's action when it was a model call (the others name a tool or koderz's own work). */
export const MODEL_CALL = "model";

export interface StepRecord {
  experimentId: string;
  index: number;
  /** Who took the step: Planner, Coder, Tester, Debugger, Reviewer, or koderz itself (STEP_BY_KODERZ). */
  agent: string;
  /** What the step was: a model call (MODEL_CALL), a tool the agent called ("edit", "run_tests" ...), or koderz's own "run_tests" or "judge". */
  action: string;
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
