import type { Agent, AgentCall } from "../../agents/agent.js";
import type { FunctionTaskState } from "../../agents/team-state.js";
import type { PublicTask } from "../../tasks/task.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { ModelBackend } from "../llm/types.js";
import { runVisibleTests, type CheckReport, type VisibleTest } from "../evaluation/visible-tests.js";
import type { Trajectory } from "./trajectory.js";

/** The mode names a pipeline runs: the mode vocabulary's (policy/mode-vocabulary.ts). */
export { MODE_NAMES as PIPELINE_MODES, type ModeName as PipelineMode } from "../../policy/mode-vocabulary.js";

export { DEFAULT_SETTINGS, type PipelineSettings } from "./modes.js";
import type { PipelineSettings } from "./modes.js";

export interface PipelineContext {
  task: PublicTask;
  models: Record<Agent, ModelBackend>;
  sandbox: Sandbox;
  trajectory: Trajectory;
  settings: PipelineSettings;
  signal?: AbortSignal;
}

export interface PipelineResult {
  /** The candidate handed to the grader. */
  completion: string;
  /** Code versions written. */
  iterations: number;
  /** Set when a budget cut the pipeline short. */
  stoppedBy?: string;
}

export type Pipeline = (context: PipelineContext) => Promise<PipelineResult>;

/** A completion the Coder or the Debugger wrote, with the model call that wrote it. */
export interface Written {
  output: string;
  call: AgentCall;
}

/** A candidate with its visible-test report. */
export interface Scored {
  completion: string;
  report: CheckReport;
}

/** Runs the visible tests on a fresh candidate and records the step that wrote it. */
export async function checkAndRecord(context: PipelineContext, written: Written, tests: VisibleTest[]): Promise<Scored> {
  const report = await runVisibleTests(context.sandbox, context.task, written.output, tests);
  context.trajectory.add(written.call, {
    code: written.output,
    testOutput: report.text,
    visiblePassFraction: report.passFraction,
  });
  return { completion: written.output, report };
}

/** The shared state an agent reads, with the candidate in hand and its report. */
export function functionTaskState(context: PipelineContext, candidate: Scored | undefined, rest: Omit<FunctionTaskState, "task" | "candidate"> = {}): FunctionTaskState {
  return { task: context.task, ...(candidate ? { candidate: { completion: candidate.completion, testReport: candidate.report.text } } : {}), ...rest };
}

/** The better of two candidates by visible pass fraction; the earlier one wins a tie. */
export function better(a: Scored, b: Scored): Scored {
  return (b.report.passFraction ?? 0) > (a.report.passFraction ?? 0) ? b : a;
}
