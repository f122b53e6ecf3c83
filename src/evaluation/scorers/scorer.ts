import type { Sandbox } from "../../../sandbox/sandbox.js";
import type { Task } from "../../../tasks/task.js";
import type { ChatResponse, ModelBackend } from "../../llm/types.js";

/** What a scorer gets: the task, the final completion, and where it may run code or ask a judge. */
export interface ScoreInput {
  task: Task;
  /** What follows the prompt: prompt + completion is the program scored. */
  completion: string;
  sandbox: Sandbox;
  /** The wall-clock limit of the hidden test (scaled per task for HumanEval+). */
  timeoutSeconds: number;
  /** The judge model for rubric criteria no program can decide; its calls are returned for the record. */
  judge?: ModelBackend;
  signal?: AbortSignal;
  /** tool-trace: the workspace the agents left, and every tool call they made. */
  agentic?: AgenticEvidence;
}

/** What an agentic case is scored on (see tool-trace.ts). */
export interface AgenticEvidence {
  workspace: EndState;
  toolCalls: readonly TracedToolCall[];
}

/** The workspace as the scorer reads it (sandbox/workspace.ts's Workspace is one). */
export interface EndState {
  /** The file's text, or undefined when it does not exist. */
  readFile(relativePath: string): Promise<string | undefined>;
  exec(argv: string[], options?: { timeoutSeconds?: number }): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }>;
}

/** One tool call an agent made, in the order they were made. */
export interface TracedToolCall {
  agent: string;
  tool: string;
  /** The arguments as JSON text. */
  arguments: string;
  /** The tool answered with an error (a bad argument, an edit that did not match). */
  isError: boolean;
}

/** How one rubric criterion fared. */
export interface CriterionScore {
  name: string;
  weight: number;
  by: "check" | "program" | "judge" | "end-state" | "trace";
  /** 0..1: a check holds (1) or not (0); a judge's 1-5 mapped to (s - 1) / 4. */
  value: number;
  /** What decided it: the sandbox's verdict words, or the judge's reason. */
  detail: string;
  /** Set when the criterion could not be decided (a malformed or off-scale judge answer): it counts 0. */
  error?: string;
}

/** One call a scorer made to a model: stored as a step of the experiment and costed like any other. */
export interface ScorerCall {
  model: string;
  prompt: string;
  response: ChatResponse;
}

export interface ScoreResult {
  /** Whether the case counts as solved. */
  passed: boolean;
  /** A line for results and traces: "passed", "failed: ...", "rubric 3.4/5 (needs 4)". */
  verdict: string;
  /** rubric and tool-trace: the weighted total on the 1-5 scale. */
  score?: number;
  criteria?: CriterionScore[];
  calls: ScorerCall[];
}

/** One scorer, registered by name in scorers/index.ts; the case's ScoringSpec says which. */
export interface Scorer {
  readonly name: string;
  score(input: ScoreInput): Promise<ScoreResult>;
}
