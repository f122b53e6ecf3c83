import type { AgentRole } from "../../agents/agent.js";
import { publicView } from "../../agents/public-task.js";
import type { Sandbox, Verdict } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import type { ModelBackend } from "../llm/types.js";
import type { Budget } from "./budget.js";
import { hiddenVerdict } from "../evaluation/hidden-verdict.js";
import type { Pipeline, PipelineMode, PipelineResult, PipelineSettings } from "./pipeline.js";
import { iterative } from "./pipelines/iterative.js";
import { scriptedPipeline } from "./pipelines/scripted.js";
import { Trajectory, type StepDraft, type StepListener } from "./trajectory.js";

const PIPELINES: Record<PipelineMode, Pipeline> = {
  "zero-shot": scriptedPipeline("fast"),
  fast: scriptedPipeline("fast"),
  iterative,
  standard: scriptedPipeline("standard"),
  deep: scriptedPipeline("deep"),
};

export interface ExperimentSpec {
  task: Task;
  mode: PipelineMode;
  models: Record<AgentRole, ModelBackend>;
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
}

/** Runs one task through one mode's pipeline, then grades the result against the hidden tests. */
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
  const verdict = await hiddenVerdict(spec.sandbox, spec.task, result.completion, spec.hiddenTimeoutSeconds);
  return experimentOutcome(trajectory.steps, result, verdict, started);
}

/** An experiment's totals from its steps, pipeline result and verdict (auto mode's experiments use it too). */
export function experimentOutcome(steps: StepDraft[], result: PipelineResult, verdict: Verdict, startedAt: number): ExperimentOutcome {
  return {
    success: verdict.passed,
    verdict: verdict.result,
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
