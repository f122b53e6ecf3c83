import { REPO_CODER_ROLE, REPO_CODER_SYSTEM, repoCoderMessage } from "../../../agents/repo-coder.js";
import { REPO_DEBUGGER_ROLE, REPO_DEBUGGER_SYSTEM, repoDebuggerMessage } from "../../../agents/repo-debugger.js";
import { REPO_PLANNER_ROLE, REPO_PLANNER_SYSTEM, repoPlannerMessage } from "../../../agents/repo-planner.js";
import { parseRepoReview, REPO_REVIEWER_ROLE, REPO_REVIEWER_SYSTEM, repoReviewerMessage } from "../../../agents/repo-reviewer.js";
import { parseReproductionTests, REPO_TESTER_ROLE, REPO_TESTER_SYSTEM, repoTesterMessage } from "../../../agents/repo-tester.js";
import { ALL_TOOLS, READ_TOOLS, clip } from "../../../agents/tools/index.js";
import type { AgentRole } from "../../../agents/agent.js";
import type { RepoTool } from "../../../agents/tools/tool.js";
import type { Agent } from "../../../policy/actions.js";
import { MODE_SPECS, nextScriptedAgent, type ScriptEvidence } from "../../../policy/mode-spec.js";
import type { SolveContext, SolveMode, SolveOutcome, SolvePipeline } from "./solve-pipeline.js";
import { runToolLoop, type ToolLoopResult } from "./tool-loop.js";
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

interface SolveWork extends SolveOutcome {
  ran: Agent[];
  /** The tests' verdict on the current change; cleared when a role changes the code. */
  lastRun?: TestRun;
}

function scripted(mode: SolveMode): SolvePipeline {
  const spec = MODE_SPECS.repository[mode];
  const readsChecks = spec.script.some((step) => step.when === "failing");
  return async (context) => {
    const work: SolveWork = { iterations: 0, reproductionTests: [], ran: [] };
    const evidence = (): ScriptEvidence => ({
      failing: work.lastRun !== undefined && !work.lastRun.passed,
      rejected: work.review?.accept === false,
      failingTestNamed: context.view.knownFailingTests.length > 0,
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
    const { ran: _ran, lastRun: _lastRun, ...outcome } = work;
    return outcome;
  };
}

/** Each role's turn on the shared work. */
const SOLVE_STEPS: Record<Agent, (context: SolveContext, work: SolveWork, maxTokens: number) => Promise<ToolLoopResult>> = {
  async Planner(context, work, maxTokens) {
    const planner = await role(context, REPO_PLANNER_ROLE, REPO_PLANNER_SYSTEM, repoPlannerMessage(context.view, context.repoMap), READ_TOOLS, maxTokens);
    work.plan = planner.text;
    return planner;
  },
  async Tester(context, work, maxTokens) {
    const tester = await role(context, REPO_TESTER_ROLE, REPO_TESTER_SYSTEM, repoTesterMessage(context.view, work.plan ?? ""), ALL_TOOLS, maxTokens);
    work.reproductionTests = parseReproductionTests(tester.text);
    return tester;
  },
  async Coder(context, work, maxTokens) {
    const message = work.plan === undefined ? repoCoderMessage({ view: context.view, repoMap: context.repoMap }) : repoCoderMessage({ view: context.view, plan: work.plan, reproductionTests: work.reproductionTests });
    const coder = await role(context, REPO_CODER_ROLE, REPO_CODER_SYSTEM, message, ALL_TOOLS, maxTokens);
    work.iterations += 1;
    work.lastRun = undefined;
    return coder;
  },
  async Debugger(context, work, maxTokens) {
    const run = work.lastRun ?? (await recordedCheck(context, work));
    const guidance = work.review?.accept === false ? work.review.feedback : undefined;
    const message = repoDebuggerMessage({ view: context.view, failures: testReport(run), diff: clip(await context.diff(), 12_000), plan: work.plan, guidance });
    const debuggerTurn = await role(context, REPO_DEBUGGER_ROLE, REPO_DEBUGGER_SYSTEM, message, ALL_TOOLS, maxTokens);
    work.iterations += 1;
    work.lastRun = undefined;
    return debuggerTurn;
  },
  async Reviewer(context, work, maxTokens) {
    const run = work.lastRun ?? (await recordedCheck(context, work));
    work.lastRun = run;
    const reviewer = await role(context, REPO_REVIEWER_ROLE, REPO_REVIEWER_SYSTEM, repoReviewerMessage(context.view, await context.diff(), testReport(run)), READ_TOOLS, maxTokens);
    if (!reviewer.stoppedBy) work.review = parseRepoReview(reviewer.text);
    return reviewer;
  },
};

async function recordedCheck(context: SolveContext, outcome: Pick<SolveOutcome, "reproductionTests">): Promise<TestRun> {
  const run = await context.check(outcome.reproductionTests);
  context.trajectory.addCheck("run_tests", run.command, run.output, run.passed, run.durationMs);
  return run;
}

function role(context: SolveContext, name: AgentRole, system: string, user: string, tools: readonly RepoTool[], maxTokens: number): Promise<ToolLoopResult> {
  return runToolLoop({ role: name, backend: context.models[name], system, user, tools, context: context.tools, trajectory: context.trajectory, signal: context.signal, maxTokens });
}

function testReport(run: TestRun): string {
  const verdict = run.timedOut ? "timed out" : run.passed ? "passed" : `failed (exit ${run.exitCode})`;
  return `$ ${run.command}\n${verdict}\n${clip(run.output, 8_000)}`;
}
