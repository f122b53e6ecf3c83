import type { Agent } from "../../agents/agent.js";
import type { Sandbox, Verdict } from "../../sandbox/sandbox.js";
import { publicView, type Task } from "../../tasks/task.js";
import { responseForTheRecord, wasCutOff } from "../llm/response-record.js";
import type { ModelBackend } from "../llm/types.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import type { Budget } from "./budget.js";
import { scoreCompletion, type CriterionScore, type ScoreResult } from "../evaluation/scorers/index.js";
import { measureExperiment } from "../evaluation/measure-experiment.js";
import type { StoredMeasures } from "../store/index.js";
import type { Pipeline, PipelineMode, PipelineResult, PipelineSettings } from "./pipeline.js";
import { iterative } from "./pipelines/iterative.js";
import { MODE_NAMES, MODE_VOCABULARY } from "../../policy/mode-vocabulary.js";
import { scriptedPipeline } from "./pipelines/function-task.js";
import { STEP_BY_KODERZ } from "../store/index.js";
import { Trajectory, type StepDraft, type StepListener } from "./trajectory.js";

/** Each mode name's function-task pipeline, as the mode vocabulary (policy/mode-vocabulary.ts) says. */
const PIPELINES = Object.fromEntries(
  MODE_NAMES.map((name) => {
    const meaning = MODE_VOCABULARY[name].functionPipeline;
    return [name, meaning.kind === "iterative" ? iterative : scriptedPipeline(meaning.mode)];
  }),
) as Record<PipelineMode, Pipeline>;

export interface ExperimentSpec {
  task: Task;
  mode: PipelineMode;
  models: Record<Agent, ModelBackend>;
  sandbox: Sandbox;
  settings: PipelineSettings;
  budget?: Budget;
  /** The grader's time limit for this task (scaled per task for HumanEval+). */
  hiddenTimeoutSeconds?: number;
  onStep?: StepListener;
  signal?: AbortSignal;
}

export interface ExperimentOutcome {
  success: boolean;
  /** The grader's words: "passed", "failed: ...", "timed out". */
  verdict: string;
  iterations: number;
  completion: string;
  steps: StepDraft[];
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
  stoppedBy?: string;
  /** rubric: the weighted score on the 1-5 scale, and how each criterion fared. */
  score?: number;
  criteria?: CriterionScore[];
  /** The final code's quality and deep mode's drafts' behaviour, as the sandbox measured them. */
  measures?: StoredMeasures;
}

/** Runs one task through one mode's pipeline, then scores the result with the task's scorer (HumanEval: its hidden tests). */
export async function runExperiment(spec: ExperimentSpec): Promise<ExperimentOutcome> {
  const started = Date.now();
  const trajectory = new Trajectory(spec.budget, spec.onStep);
  const result = await PIPELINES[spec.mode]({
    task: publicView(spec.task),
    models: spec.models,
    sandbox: spec.sandbox,
    trajectory,
    settings: spec.settings,
    signal: spec.signal,
  });
  const scored = await scoreCompletion({
    task: spec.task,
    completion: result.completion,
    sandbox: spec.sandbox,
    timeoutSeconds: spec.hiddenTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    // The judge is the frontier model's seat (the Reviewer's backend), logged and costed like every call.
    judge: spec.models.Reviewer,
    signal: spec.signal,
  });
  const outcome = experimentOutcome([...trajectory.steps, ...judgeSteps(scored)], result, scored, started);
  // After the outcome: measuring is not part of the experiment's wall time.
  const measures = await measureExperiment({ sandbox: spec.sandbox, task: spec.task, completion: result.completion, steps: trajectory.steps, timeoutSeconds: spec.hiddenTimeoutSeconds, signal: spec.signal });
  return { ...outcome, measures };
}

/** The scorer's model calls as steps of the experiment, so their tokens and dollars count. */
function judgeSteps(scored: ScoreResult): StepDraft[] {
  return scored.calls.map((call) => ({
    agent: STEP_BY_KODERZ,
    action: "judge",
    model: call.model,
    prompt: call.prompt,
    response: responseForTheRecord(call.response),
    inputTokens: call.response.usage.input,
    outputTokens: call.response.usage.output,
    costUsd: call.response.costUsd,
    latencyMs: call.response.latencyMs,
  }));
}

/** An experiment's totals from its steps, pipeline result and verdict (auto mode's experiments use it too). */
export function experimentOutcome(
  steps: StepDraft[],
  result: PipelineResult,
  graded: Verdict | ScoreResult,
  startedAt: number,
): ExperimentOutcome {
  // A sandbox Verdict (auto mode's episodes) words itself in `result`; a scorer's result in `verdict`.
  const scored = "calls" in graded ? graded : undefined;
  const verdict = "calls" in graded ? graded.verdict : graded.result;
  // The code came from an answer cut at the token limit: it failed because it is unfinished, which the verdict says.
  const writer = [...steps].reverse().find((step) => step.code !== undefined && step.code === result.completion);
  const cutOff = !graded.passed && wasCutOff(writer?.response);
  return {
    success: graded.passed,
    verdict: cutOff ? `${verdict} (cut off: the answer that wrote this code stopped at the token limit, finish reason "length")` : verdict,
    ...(scored?.score !== undefined ? { score: scored.score, criteria: scored.criteria } : {}),
    iterations: result.iterations,
    completion: result.completion,
    steps,
    inputTokens: steps.reduce((sum, s) => sum + s.inputTokens, 0),
    outputTokens: steps.reduce((sum, s) => sum + s.outputTokens, 0),
    costUsd: steps.reduce((sum, s) => sum + s.costUsd, 0),
    wallSeconds: (Date.now() - startedAt) / 1000,
    stoppedBy: result.stoppedBy,
  };
}
