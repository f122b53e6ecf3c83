import type { Agent } from "../../../agents/agent.js";
import type { ToolContext } from "../../../agents/tools/tool.js";
import type { PublicIssue } from "../../../tasks/repo-task.js";
import type { ModelBackend } from "../../llm/types.js";
import type { SolveTrajectory } from "./solve-trajectory.js";
import type { TestRun } from "./workspace-tests.js";

/** solve's modes are the policy's modes (policy/mode-vocabulary.ts says what every other name maps to). */
export { MODES as SOLVE_MODES, type Mode as SolveMode } from "../../../policy/actions.js";

export interface SolveContext {
  issue: PublicIssue;
  repoMap: string;
  models: Record<Agent, ModelBackend>;
  tools: ToolContext;
  trajectory: SolveTrajectory;
  /**
   * The orchestrator's own test run after an agent finished: the task's named tests, or (with a
   * hidden test patch) the known PASS_TO_PASS tests and the Tester's reproduction, or the suite.
   */
  check(reproductionTests: readonly string[]): Promise<TestRun>;
  diff(): Promise<string>;
  /** Debugger rounds while the check fails. */
  debugRounds: number;
  signal?: AbortSignal;
}

export interface SolveOutcome {
  /** Coder and Debugger rounds: the experiment's iterations. */
  iterations: number;
  plan?: string;
  reproductionTests: string[];
  review?: { accept: boolean; feedback: string };
  /** Set when a budget cut the pipeline short. */
  stoppedBy?: string;
}

export type SolvePipeline = (context: SolveContext) => Promise<SolveOutcome>;
