import { runPlanner } from "../../agents/planner.js";
import { runReviewer } from "../../agents/reviewer.js";
import { runTester } from "../../agents/tester.js";
import type { Agent, Mode } from "../../policy/actions.js";
import { exampleTests, runVisibleTests, testerTests, type VisibleTest } from "../evaluation/visible-tests.js";
import { better, checkAndRecord, writeDrafts, type PipelineContext, type PipelineResult, type Scored } from "./pipeline.js";
import { debugOnce } from "./pipelines/debug-rounds.js";

/**
 * An episode run one agent at a time on someone else's orders (the meta-controller's), where
 * the fixed pipelines run a script. Every agent works on the same shared state: the plan, the
 * tests (the docstring's examples, then the Tester's), the best candidate so far with its
 * test report, and the Reviewer's last guidance. `koderz benchmark --mode auto` and
 * `koderz train-meta --env live` both step episodes through runAgentStep, so an agent means
 * the same in both.
 *
 * Every agent the policy picks really runs and is paid for, with two exceptions that keep a
 * step from being meaningless: the Debugger and the Reviewer work on a candidate, so before
 * the first candidate exists either one runs the Coder instead (the step is recorded as the
 * Coder's, because the Coder's model is what ran). Steps are recorded through the trajectory
 * exactly as the fixed pipelines record theirs.
 */
export interface EpisodeWork {
  readonly context: PipelineContext;
  readonly mode: Mode;
  plan?: string;
  tests: VisibleTest[];
  best?: Scored;
  /** The Reviewer's last rejection; the next Coder or Debugger reads it. */
  guidance?: string;
  /** Code versions written so far. */
  iterations: number;
}

/** What one agent step measured and spent. */
export interface AgentStepReport {
  /** The best candidate's visible pass fraction after the step, when the step ran visible tests. */
  visiblePassFraction?: number;
  tokens: number;
  costUsd: number;
}

export function startEpisodeWork(context: PipelineContext, mode: Mode): EpisodeWork {
  return { context, mode, tests: exampleTests(context.task), iterations: 0 };
}

/**
 * Runs one agent on the episode's shared state. Once the experiment's budget is spent, a step
 * does nothing and costs nothing (the episode's decisions go on until Stop or the mode's budget).
 */
export async function runAgentStep(work: EpisodeWork, agent: Agent): Promise<AgentStepReport> {
  const trajectory = work.context.trajectory;
  if (trajectory.exhausted()) return { tokens: 0, costUsd: 0 };
  const before = trajectory.spend();
  const ran: Agent = (agent === "Debugger" || agent === "Reviewer") && !work.best ? "Coder" : agent;
  const visiblePassFraction = await STEPS[ran](work);
  const after = trajectory.spend();
  return { visiblePassFraction, tokens: after.tokens - before.tokens, costUsd: after.usd - before.usd };
}

/** Where the episode stands, in the fixed pipelines' terms: the candidate handed to the grader. */
export function episodeResult(work: EpisodeWork): PipelineResult {
  return { completion: work.best?.completion ?? "", iterations: work.iterations, stoppedBy: work.context.trajectory.exhausted() };
}

/** Each agent's step; returns the best candidate's visible pass fraction when the step measured it. */
const STEPS: Record<Agent, (work: EpisodeWork) => Promise<number | undefined>> = {
  async Planner(work) {
    const { context } = work;
    const plan = await runPlanner(context.models.Planner, context.task, { signal: context.signal });
    context.trajectory.add(plan.call);
    work.plan = plan.plan;
    return undefined;
  },

  /** New tests are added to the set, and the best candidate is re-checked against the whole set so every candidate is judged alike. */
  async Tester(work) {
    const { context } = work;
    const tester = await runTester(context.models.Tester, context.task, { signal: context.signal });
    const known = new Set(work.tests.map((test) => test.name));
    work.tests.push(...testerTests(tester.tests).filter((test) => !known.has(test.name)));
    if (!work.best) {
      context.trajectory.add(tester.call);
      return undefined;
    }
    const report = await runVisibleTests(context.sandbox, context.task, work.best.completion, work.tests);
    work.best = { completion: work.best.completion, report };
    context.trajectory.add(tester.call, { testOutput: report.text, visiblePassFraction: report.passFraction });
    return report.passFraction;
  },

  /** Deep mode's Coder samples `trajectories` drafts at once, as the deep pipeline does; the best by visible tests is kept. */
  async Coder(work) {
    const { context } = work;
    const samples = work.mode === "deep" ? context.settings.trajectories : undefined;
    const drafts = await writeDrafts(context, { plan: work.plan, guidance: work.guidance }, samples);
    for (const draft of drafts) {
      const scored = await checkAndRecord(context, draft, work.tests);
      work.best = work.best ? better(work.best, scored) : scored;
    }
    work.iterations += drafts.length;
    return work.best!.report.passFraction;
  },

  async Debugger(work) {
    work.best = await debugOnce(work.context, work.best!, work.tests, work.plan, work.guidance);
    work.iterations += 1;
    return work.best.report.passFraction;
  },

  /** An acceptance clears earlier guidance; a rejection's reasons guide the next Coder or Debugger. */
  async Reviewer(work) {
    const { context } = work;
    const best = work.best!;
    const review = await runReviewer(context.models.Reviewer, context.task, best.completion, best.report.text, { signal: context.signal });
    context.trajectory.add(review.call);
    work.guidance = review.accept ? undefined : review.feedback;
    return undefined;
  },
};
