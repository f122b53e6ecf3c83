import type { Agent, AgentSpec } from "../../../agents/agent.js";
import { CODER } from "../../../agents/coder.js";
import { DEBUGGER } from "../../../agents/debugger.js";
import { PLANNER } from "../../../agents/planner.js";
import { REVIEWER } from "../../../agents/reviewer.js";
import { work as runAgent } from "../../../agents/run-agent.js";
import type { IssueState } from "../../../agents/team-state.js";
import { TESTER } from "../../../agents/tester.js";
import { clip } from "../../../agents/tools/index.js";
import { MODE_SPECS, nextScriptedAgent, type ScriptEvidence } from "../../../policy/mode-spec.js";
import type { SolveContext, SolveMode, SolveOutcome, SolvePipeline } from "./solve-pipeline.js";
import type { TestRun } from "./workspace-tests.js";

/**
 * The repository-level pipelines: each runs its mode's script from the mode spec
 * (policy/mode-spec.ts, product "repository"), the same table the HumanEval pipelines read:
 *   fast      Coder alone (it reads, edits and runs the tests itself)
 *   standard  Planner, Tester (when the task names no failing test), Coder, Debugger rounds
 *   deep      standard with one more Debugger round, then the Reviewer reads the final diff;
 *             a rejection buys one guided Debugger round
 * In a mode whose script reads the checks (a "failing" step), the orchestrator runs the tests
 * after every Coder and Debugger turn, except the guided round that ends the script.
 */
export const SOLVE_PIPELINES: Record<SolveMode, SolvePipeline> = { fast: scripted("fast"), standard: scripted("standard"), deep: scripted("deep") };

/** The work a solve's agents share; an escalation (solve-ladder.ts) hands it on to the next rung. */
export interface SolveWork extends SolveOutcome {
  /** The agents that ran on this rung, in script order (a new rung starts from its resume point). */
  ran: Agent[];
  /** The tests' verdict on the current change; cleared when an agent changes the code. */
  lastRun?: TestRun;
  /** Set by an escalation: the next Coder starts from the change so far and its test report. */
  carryOver?: { diff: string; testReport: string };
}

export function newSolveWork(): SolveWork {
  return { iterations: 0, reproductionTests: [], ran: [] };
}

/** What a pipeline hands back: the work without the orchestrator's bookkeeping. */
export function solveOutcome(work: SolveWork): SolveOutcome {
  const { ran: _ran, lastRun: _lastRun, carryOver: _carryOver, ...outcome } = work;
  return outcome;
}

function scripted(mode: SolveMode): SolvePipeline {
  return async (context) => {
    const work = newSolveWork();
    await runSolveScript(mode, context, work);
    return solveOutcome(work);
  };
}

/** Runs a mode's script on the work, from the agents already in work.ran, until the script or the budget ends. */
export async function runSolveScript(mode: SolveMode, context: SolveContext, work: SolveWork): Promise<void> {
  const spec = MODE_SPECS.repository[mode];
  const readsChecks = spec.script.some((step) => step.when === "failing");
  const evidence = (): ScriptEvidence => ({
    failing: work.lastRun !== undefined && !work.lastRun.passed,
    rejected: work.review?.accept === false,
    failingTestNamed: context.issue.knownFailingTests.length > 0,
    drafts: 0,
  });
  for (let next = nextScriptedAgent(spec.script, work.ran, evidence(), context); next !== "Stop"; next = nextScriptedAgent(spec.script, work.ran, evidence(), context)) {
    if ((work.stoppedBy = context.trajectory.exhausted())) break;
    const guided = next === "Debugger" && work.review?.accept === false;
    const turn = await SOLVE_STEPS[next](context, work, spec.answerTokens);
    work.ran.push(next);
    if ((work.stoppedBy = turn.stoppedBy)) break;
    if ((next === "Coder" || next === "Debugger") && readsChecks && !guided) work.lastRun = await recordedCheck(context, work);
  }
}

/** Each agent's turn on the shared work; the agents read it as their shared state (IssueState). */
const SOLVE_STEPS: Record<Agent, (context: SolveContext, work: SolveWork, maxTokens: number) => Promise<{ stoppedBy?: string }>> = {
  async Planner(context, work, maxTokens) {
    const planner = await turn(PLANNER.repository, context, issueState(context, work), maxTokens);
    work.plan = planner.output;
    return planner;
  },
  async Tester(context, work, maxTokens) {
    const tester = await turn(TESTER.repository, context, issueState(context, work), maxTokens);
    work.reproductionTests = tester.output;
    return tester;
  },
  async Coder(context, work, maxTokens) {
    const carried = work.carryOver;
    work.carryOver = undefined;
    const coder = await turn(CODER.repository, context, { ...issueState(context, work), ...carried }, maxTokens);
    work.iterations += 1;
    work.lastRun = undefined;
    return coder;
  },
  async Debugger(context, work, maxTokens) {
    const run = work.lastRun ?? (await recordedCheck(context, work));
    const guidance = work.review?.accept === false ? work.review.feedback : undefined;
    const debuggerTurn = await turn(DEBUGGER.repository, context, { ...issueState(context, work), diff: await context.diff(), testReport: testReport(run), guidance }, maxTokens);
    work.iterations += 1;
    work.lastRun = undefined;
    return debuggerTurn;
  },
  async Reviewer(context, work, maxTokens) {
    const run = work.lastRun ?? (await recordedCheck(context, work));
    work.lastRun = run;
    const reviewer = await turn(REVIEWER.repository, context, { ...issueState(context, work), diff: await context.diff(), testReport: testReport(run) }, maxTokens);
    if (!reviewer.stoppedBy) work.review = reviewer.output;
    return reviewer;
  },
};

function issueState(context: SolveContext, work: SolveWork): IssueState {
  return { issue: context.issue, repoMap: context.repoMap, plan: work.plan, reproductionTests: work.reproductionTests };
}

export async function recordedCheck(context: SolveContext, outcome: Pick<SolveOutcome, "reproductionTests">): Promise<TestRun> {
  const run = await context.check(outcome.reproductionTests);
  context.trajectory.addCheck("run_tests", run.command, run.output, run.passed, run.durationMs);
  return run;
}

function turn<Output>(spec: AgentSpec<IssueState, Output>, context: SolveContext, state: IssueState, maxTokens: number): Promise<{ output: Output; stoppedBy?: string }> {
  return runAgent(spec, state, context.models[spec.agent], { tools: context.tools, turns: context.trajectory }, { signal: context.signal, maxTokens });
}

export function testReport(run: TestRun): string {
  const verdict = run.timedOut ? "timed out" : run.passed ? "passed" : `failed (exit ${run.exitCode})`;
  return `$ ${run.command}\n${verdict}\n${clip(run.output, 8_000)}`;
}
