import { CODER } from "../../../agents/coder.js";
import { DEBUGGER } from "../../../agents/debugger.js";
import { PLANNER } from "../../../agents/planner.js";
import { REVIEWER } from "../../../agents/reviewer.js";
import { work as runAgent } from "../../../agents/run-agent.js";
import type { IssueState } from "../../../agents/team-state.js";
import { TESTER } from "../../../agents/tester.js";
import { clip } from "../../../agents/tools/index.js";
import type { Mode } from "../../../policy/actions.js";
import { MODE_SPECS } from "../../../policy/mode-spec.js";
import { climbLadder, type Climb, type ClimbPlug, type LadderPlan } from "../engine/ladder-climb.js";
import { guidanceOf, TeamEpisode, type ProductPlug, type TeamWork } from "../engine/team-episode.js";
import type { SolveContext, SolveMode, SolveOutcome, SolvePipeline } from "./solve-pipeline.js";
import type { TestRun } from "./workspace-tests.js";

/**
 * The repository product (an issue on a repository: `koderz solve`, agentic suite cases) as it
 * plugs into the episode engine (engine/team-episode.ts). Its task state is the public issue, a
 * map of the repository, the plan, the Tester's reproduction and the orchestrator's last test run;
 * the candidate is the workspace itself (the agents edit it through their tools, and every model
 * turn and tool call is logged as it happens). In a mode whose script reads the checks (a
 * "failing" step), the orchestrator runs the tests after every Coder and Debugger turn, except the
 * guided round that ends the script; the grade (grade.ts) judges the workspace afterwards.
 *   fast      Coder alone (it reads, edits and runs the tests itself)
 *   standard  Planner, Tester (when the task names no failing test), Coder, Debugger rounds
 *   deep      standard with one more Debugger round, then the Reviewer reads the final diff;
 *             a rejection buys one guided Debugger round
 */
export interface RepositoryWork extends TeamWork {
  reproductionTests: string[];
  /** The tests' verdict on the current change; cleared when an agent changes the code. */
  lastRun?: TestRun;
  /** Handed on by an escalation: the change so far and its test report, for the next Coder. */
  carried?: { diff: string; testReport: string };
}

export type RepositoryEpisode = TeamEpisode<RepositoryWork, IssueState>;

const SPECS = { Planner: PLANNER.repository, Coder: CODER.repository, Tester: TESTER.repository, Debugger: DEBUGGER.repository, Reviewer: REVIEWER.repository };

function repositoryPlug(context: SolveContext): ProductPlug<RepositoryWork, IssueState> {
  const issueState = (work: RepositoryWork): IssueState => ({ issue: context.issue, repoMap: context.repoMap, plan: work.plan, reproductionTests: work.reproductionTests });
  const readsChecks = (work: RepositoryWork) => MODE_SPECS.repository[work.mode].script.some((step) => step.when === "failing");
  return {
    product: "repository",
    specs: SPECS,
    trajectory: context.trajectory,
    settings: { debugRounds: context.debugRounds, trajectories: 1 },

    async state(work, agent, start) {
      if (agent === "Coder") return { ...issueState(work), ...(start === "carryOver" ? work.carried : {}) };
      if (agent === "Debugger") {
        const run = work.lastRun ?? (await recordedCheck(context, work));
        return { ...issueState(work), diff: await context.diff(), testReport: testReport(run), guidance: guidanceOf(work) };
      }
      if (agent === "Reviewer") {
        const run = work.lastRun ?? (await recordedCheck(context, work));
        work.lastRun = run;
        return { ...issueState(work), diff: await context.diff(), testReport: testReport(run) };
      }
      return issueState(work);
    },

    answer: (work, spec, state) => runAgent(spec, state, work.models[spec.agent], { tools: context.tools, turns: context.trajectory }, { signal: context.signal, maxTokens: MODE_SPECS.repository[work.mode].answerTokens }),

    async tested(work, tester) {
      work.reproductionTests = tester.output;
      return undefined;
    },

    async written(work, [turn], { guided }) {
      work.lastRun = undefined;
      if (turn?.stoppedBy || guided || !readsChecks(work)) return undefined;
      work.lastRun = await recordedCheck(context, work);
      return work.lastRun.passed ? 1 : 0;
    },

    evidence: (work) => ({ failing: work.lastRun !== undefined && !work.lastRun.passed, failingTestNamed: context.issue.knownFailingTests.length > 0, drafts: 0 }),
    // The workspace is the candidate: there is always code to debug or review.
    hasCandidate: () => true,
    seen: () => ({}),
  };
}

export function repositoryEpisode(context: SolveContext, mode: Mode): RepositoryEpisode {
  const work: RepositoryWork = { mode, models: context.models, ran: [], iterations: 0, carryOver: false, reproductionTests: [] };
  return new TeamEpisode(repositoryPlug(context), work);
}

/** What a pipeline hands back: the work without the engine's bookkeeping. */
export function solveOutcome(work: RepositoryWork): SolveOutcome {
  return {
    iterations: work.iterations,
    ...(work.plan !== undefined ? { plan: work.plan } : {}),
    reproductionTests: work.reproductionTests,
    ...(work.review !== undefined ? { review: work.review } : {}),
    stoppedBy: work.stoppedBy,
  };
}

function scripted(mode: SolveMode): SolvePipeline {
  return async (context) => {
    const episode = repositoryEpisode(context, mode);
    await episode.playScript();
    return solveOutcome(episode.work);
  };
}

/** Each mode's repository pipeline: the engine playing the mode's script on the repository. */
export const SOLVE_PIPELINES: Record<SolveMode, SolvePipeline> = { fast: scripted("fast"), standard: scripted("standard"), deep: scripted("deep") };

export interface LadderOutcome extends SolveOutcome, Climb {}

const DIFF_CHARS = 8_000;

/** A repository on a ladder: a rung ends with the orchestrator's test run; the next rung gets the change in place, its diff and that run. */
export function repositoryClimb(context: SolveContext): ClimbPlug<RepositoryWork> {
  let end: { run: TestRun; diff: string } | undefined;
  return {
    async rungCheck(work) {
      // work.lastRun is already the verdict on the change as it stands, when the script's last step checked it.
      const run = work.lastRun ?? (await recordedCheck(context, work));
      const diff = await context.diff();
      end = { run, diff };
      return { passed: run.passed, changed: diff.trim() !== "", failure: `the tests failing (exit ${run.exitCode})` };
    },
    handOn(work) {
      const { run, diff } = end!;
      work.carried = { diff: diff.trim() ? clip(diff, DIFF_CHARS) : "(no change)", testReport: testReport(run) };
      work.lastRun = run;
      work.review = undefined;
    },
  };
}

/** `koderz solve --mode auto --ladder ...`: the engine's climb (engine/ladder-climb.ts) on one repository workspace. */
export async function climbSolveLadder(context: SolveContext, plan: LadderPlan): Promise<LadderOutcome> {
  const episode = repositoryEpisode(context, plan.startMode);
  const climb = await climbLadder(episode, repositoryClimb(context), plan);
  return { ...solveOutcome(episode.work), ...climb };
}

export async function recordedCheck(context: SolveContext, outcome: Pick<SolveOutcome, "reproductionTests">): Promise<TestRun> {
  const run = await context.check(outcome.reproductionTests);
  context.trajectory.addCheck("run_tests", run.command, run.output, run.passed, run.durationMs);
  return run;
}

export function testReport(run: TestRun): string {
  const verdict = run.timedOut ? "timed out" : run.passed ? "passed" : `failed (exit ${run.exitCode})`;
  return `$ ${run.command}\n${verdict}\n${clip(run.output, 8_000)}`;
}
