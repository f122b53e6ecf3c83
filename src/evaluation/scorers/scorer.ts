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
}

/** How one rubric criterion fared. */
export interface CriterionScore {
  name: string;
  weight: number;
  by: "check" | "program" | "judge";
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
  /** rubric: the weighted total on the 1-5 scale. */
  score?: number;
  criteria?: CriterionScore[];
  calls: ScorerCall[];
}

/** One scorer, registered by name in scorers/index.ts; the case's ScoringSpec says which. */
export interface Scorer {
  readonly name: string;
  score(input: ScoreInput): Promise<ScoreResult>;
}
