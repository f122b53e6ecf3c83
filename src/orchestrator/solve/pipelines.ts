import { REPO_CODER_ROLE, REPO_CODER_SYSTEM, repoCoderMessage } from "../../../agents/repo-coder.js";
import { REPO_DEBUGGER_ROLE, REPO_DEBUGGER_SYSTEM, repoDebuggerMessage } from "../../../agents/repo-debugger.js";
import { REPO_PLANNER_ROLE, REPO_PLANNER_SYSTEM, repoPlannerMessage } from "../../../agents/repo-planner.js";
import { parseRepoReview, REPO_REVIEWER_ROLE, REPO_REVIEWER_SYSTEM, repoReviewerMessage } from "../../../agents/repo-reviewer.js";
import { parseReproductionTests, REPO_TESTER_ROLE, REPO_TESTER_SYSTEM, repoTesterMessage } from "../../../agents/repo-tester.js";
import { ALL_TOOLS, READ_TOOLS, clip } from "../../../agents/tools/index.js";
import type { AgentRole } from "../../../agents/agent.js";
import type { RepoTool } from "../../../agents/tools/tool.js";
import type { SolveContext, SolveMode, SolveOutcome, SolvePipeline } from "./solve-pipeline.js";
import { runToolLoop, type ToolLoopResult } from "./tool-loop.js";
import type { TestRun } from "./workspace-tests.js";

/**
 * The repository-level pipelines, by the same names and role sequences as the HumanEval ones:
 *   fast      Coder alone (it reads, edits and runs the tests itself)
 *   standard  Planner, Tester (when the task names no failing test), Coder, Debugger rounds
 *   deep      standard with one more Debugger round, then the Reviewer reads the final diff;
 *             a rejection buys one guided Debugger round
 * Unlike HumanEval's deep mode there are no parallel Coder trajectories: each would need its own
 * container, and the sequence above is what the team of roles asks for.
 */
export const SOLVE_PIPELINES: Record<SolveMode, SolvePipeline> = { fast, standard, deep };

async function fast(context: SolveContext): Promise<SolveOutcome> {
  const coder = await role(context, REPO_CODER_ROLE, REPO_CODER_SYSTEM, repoCoderMessage({ view: context.view, repoMap: context.repoMap }), ALL_TOOLS);
  return { iterations: 1, reproductionTests: [], stoppedBy: coder.stoppedBy };
}

async function standard(context: SolveContext): Promise<SolveOutcome> {
  const planned = await planTestAndCode(context);
  if (planned.stoppedBy) return planned;
  return debugWhileFailing(context, planned, context.debugRounds);
}

async function deep(context: SolveContext): Promise<SolveOutcome> {
  const planned = await planTestAndCode(context);
  if (planned.stoppedBy) return planned;
  const debugged = await debugWhileFailing(context, planned, context.debugRounds + 1);
  if (debugged.stoppedBy) return debugged;
  const run = debugged.lastRun ?? (await recordedCheck(context, debugged));
  const reviewer = await role(context, REPO_REVIEWER_ROLE, REPO_REVIEWER_SYSTEM, repoReviewerMessage(context.view, await context.diff(), testReport(run)), READ_TOOLS);
  if (reviewer.stoppedBy) return { ...debugged, stoppedBy: reviewer.stoppedBy };
  const review = parseRepoReview(reviewer.text);
  if (review.accept) return { ...debugged, review };
  const guided = await debugRound(context, debugged, run, review.feedback);
  return { ...guided, review };
}

/** Planner, then the Tester when no failing test is given, then the Coder with both. */
async function planTestAndCode(context: SolveContext): Promise<SolveOutcome & { lastRun?: TestRun }> {
  const planner = await role(context, REPO_PLANNER_ROLE, REPO_PLANNER_SYSTEM, repoPlannerMessage(context.view, context.repoMap), READ_TOOLS);
  if (planner.stoppedBy) return { iterations: 0, reproductionTests: [], stoppedBy: planner.stoppedBy };
  const plan = planner.text;
  let reproductionTests: string[] = [];
  if (context.view.knownFailingTests.length === 0) {
    const tester = await role(context, REPO_TESTER_ROLE, REPO_TESTER_SYSTEM, repoTesterMessage(context.view, plan), ALL_TOOLS);
    reproductionTests = parseReproductionTests(tester.text);
    if (tester.stoppedBy) return { iterations: 0, plan, reproductionTests, stoppedBy: tester.stoppedBy };
  }
  const coder = await role(context, REPO_CODER_ROLE, REPO_CODER_SYSTEM, repoCoderMessage({ view: context.view, plan, reproductionTests }), ALL_TOOLS);
  return { iterations: 1, plan, reproductionTests, stoppedBy: coder.stoppedBy };
}

/** Checks the change; while it fails and rounds are left, the Debugger gets the failure. */
async function debugWhileFailing(context: SolveContext, outcome: SolveOutcome, rounds: number): Promise<SolveOutcome & { lastRun?: TestRun }> {
  let current: SolveOutcome & { lastRun?: TestRun } = outcome;
  let run = await recordedCheck(context, current);
  for (let round = 0; !run.passed && round < rounds; round++) {
    if ((current.stoppedBy = context.trajectory.exhausted())) return { ...current, lastRun: run };
    current = await debugRound(context, current, run);
    if (current.stoppedBy) return current;
    run = await recordedCheck(context, current);
  }
  return { ...current, lastRun: run };
}

async function debugRound(context: SolveContext, outcome: SolveOutcome, run: TestRun, guidance?: string): Promise<SolveOutcome> {
  const message = repoDebuggerMessage({ view: context.view, failures: testReport(run), diff: clip(await context.diff(), 12_000), plan: outcome.plan, guidance });
  const debuggerTurn = await role(context, REPO_DEBUGGER_ROLE, REPO_DEBUGGER_SYSTEM, message, ALL_TOOLS);
  return { ...outcome, iterations: outcome.iterations + 1, stoppedBy: debuggerTurn.stoppedBy };
}

async function recordedCheck(context: SolveContext, outcome: SolveOutcome): Promise<TestRun> {
  const run = await context.check(outcome.reproductionTests);
  context.trajectory.addCheck("run_tests", run.command, run.output, run.passed, run.durationMs);
  return run;
}

function role(context: SolveContext, name: AgentRole, system: string, user: string, tools: readonly RepoTool[]): Promise<ToolLoopResult> {
  return runToolLoop({ role: name, backend: context.models[name], system, user, tools, context: context.tools, trajectory: context.trajectory, signal: context.signal });
}

function testReport(run: TestRun): string {
  const verdict = run.timedOut ? "timed out" : run.passed ? "passed" : `failed (exit ${run.exitCode})`;
  return `$ ${run.command}\n${verdict}\n${clip(run.output, 8_000)}`;
}
