import type { AgentRole } from "../../agents/agent.js";
import { runCoder, type Candidate } from "../../agents/coder.js";
import type { PublicTask } from "../../agents/public-task.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { ModelBackend } from "../llm/types.js";
import { runVisibleTests, type CheckReport, type VisibleTest } from "../evaluation/visible-tests.js";
import type { Trajectory } from "./trajectory.js";

export const PIPELINE_MODES = ["zero-shot", "iterative", "fast", "standard", "deep"] as const;
export type PipelineMode = (typeof PIPELINE_MODES)[number];

export interface PipelineSettings {
  /** iterative: the most code versions written (first attempt included). */
  maxIterations: number;
  /** iterative: a frontier-model checkpoint after every this many iterations. */
  checkpointEvery: number;
  /** deep: parallel Coder trajectories (8 is the "heavy" setting). */
  trajectories: number;
  /** standard and deep: Debugger rounds while tests fail. */
  debugRounds: number;
}

export const DEFAULT_SETTINGS: PipelineSettings = { maxIterations: 5, checkpointEvery: 3, trajectories: 4, debugRounds: 2 };

export interface PipelineContext {
  task: PublicTask;
  models: Record<AgentRole, ModelBackend>;
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

/** A candidate with its visible-test report. */
export interface Scored {
  completion: string;
  report: CheckReport;
}

/** Runs the visible tests on a fresh candidate and records the step that wrote it. */
export async function checkAndRecord(context: PipelineContext, candidate: Candidate, tests: VisibleTest[]): Promise<Scored> {
  const report = await runVisibleTests(context.sandbox, context.task, candidate.completion, tests);
  context.trajectory.add(candidate.call, {
    code: candidate.completion,
    testOutput: report.text,
    visiblePassFraction: report.passFraction,
  });
  return { completion: candidate.completion, report };
}

/** The better of two candidates by visible pass fraction; the earlier one wins a tie. */
export function better(a: Scored, b: Scored): Scored {
  return (b.report.passFraction ?? 0) > (a.report.passFraction ?? 0) ? b : a;
}

/** Sampling temperature for parallel drafts: diverse enough that K samples differ. */
const DRAFT_TEMPERATURE = 0.8;

/**
 * The Coder's drafts for one step: one greedy draft, or `samples` drafts sampled in parallel
 * (deep mode's trajectories), each with its own seed so record/replay keeps them apart.
 */
export async function writeDrafts(context: PipelineContext, input: { plan?: string; guidance?: string }, samples?: number): Promise<Candidate[]> {
  const { task, models, signal } = context;
  if (samples === undefined) return [await runCoder(models.Coder, { task, ...input }, { signal })];
  return Promise.all(
    Array.from({ length: samples }, (_, seed) => runCoder(models.Coder, { task, ...input }, { signal, seed, temperature: DRAFT_TEMPERATURE })),
  );
}
