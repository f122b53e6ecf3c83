import type { Agent } from "../../agents/agent.js";
import { CODER } from "../../agents/coder.js";
import { PLANNER } from "../../agents/planner.js";
import { REVIEWER } from "../../agents/reviewer.js";
import { ask } from "../../agents/run-agent.js";
import { TESTER } from "../../agents/tester.js";
import type { Mode } from "../../policy/actions.js";
import type { AgentStepReport } from "../../training/environment.js";
import { MODE_SPECS, nextScriptedAgent, type ModeSpec, type ScriptEvidence } from "../../policy/mode-spec.js";
import { exampleTests, runVisibleTests, testerTests, type VisibleTest } from "../evaluation/visible-tests.js";
import { better, checkAndRecord, functionTaskState, writeDrafts, type PipelineContext, type PipelineResult, type Scored } from "./pipeline.js";
import { debugOnce } from "./pipelines/debug-rounds.js";

/**
 * An episode's shared work, one agent at a time: the fixed pipelines run their mode's script
 * on it (scripted.ts), and the meta-controller's live episodes (`koderz benchmark --mode auto`,
 * `koderz train-meta --env live`) pick the agents themselves; an agent means the same in both.
 * Every agent works on the same state: the plan, the tests (the docstring's examples, then the
 * Tester's), the best candidate so far with its test report, and the Reviewer's last guidance.
 *
 * What a Coder step writes comes from the mode spec (policy/mode-spec.ts): in a mode whose
 * script samples drafts, the first Coder step writes the trajectories setting's drafts in
 * parallel; once two drafts exist and the best still fails, a Coder step merges the best two
 * (deep's hybrid). Otherwise it writes one draft from the plan and the Reviewer's guidance.
 * Right after an escalation (escalateWork), the Coder starts afresh on the new rung, shown the
 * best candidate so far and its test report.
 *
 * Every agent the policy picks really runs and is paid for, with one exception that keeps a
 * step from being meaningless: the Debugger and the Reviewer work on a candidate, so before
 * the first candidate exists either one runs the Coder instead (the step is recorded as the
 * Coder's, because the Coder's model is what ran).
 */
export interface EpisodeWork {
  /** The models may change when the episode climbs a ladder of models (see ladder.ts). */
  context: PipelineContext;
  mode: Mode;
  spec: ModeSpec;
  plan?: string;
  tests: VisibleTest[];
  best?: Scored;
  /** Every draft the Coder wrote, for the hybrid step. */
  drafts: Scored[];
  /** The Reviewer's last rejection; the next Coder or Debugger reads it. */
  guidance?: string;
  /** Code versions written so far. */
  iterations: number;
  /** The agents that ran, one entry per step (a drafts step is one Coder entry). */
  ran: Agent[];
  /** Set by an escalation: the next Coder starts from the best candidate so far and its test report. */
  carryOver?: boolean;
}

/**
 * Whether a check report shows the code raising (a syntax error, an undefined name ...) rather
 * than returning a wrong value: an example's wrong value reads "failed: f(1) returned 3,
 * expected 2", a Tester's failed assert "failed: assert ...", anything else is the error's text.
 */
export function codeRaises(reportText: string): boolean {
  return reportText.split("\n").some((line) => {
    const reason = /^- .*?: failed: (.*)$/.exec(line)?.[1];
    return reason !== undefined && !/^assert\b/.test(reason) && !/ returned .*, expected /.test(reason);
  });
}

export function startEpisodeWork(context: PipelineContext, mode: Mode): EpisodeWork {
  return { context, mode, spec: MODE_SPECS.humaneval[mode], tests: exampleTests(context.task), drafts: [], iterations: 0, ran: [] };
}

/** What the mode's script reads at this point of the episode. */
export function scriptEvidence(work: EpisodeWork): ScriptEvidence {
  return { failing: work.best !== undefined && !work.best.report.allPassed, rejected: work.guidance !== undefined, drafts: work.drafts.length };
}

/** What the mode's fixed pipeline would run next. */
export function scriptedNext(work: EpisodeWork): Agent | "Stop" {
  return nextScriptedAgent(work.spec.script, work.ran, scriptEvidence(work), work.context.settings);
}

/**
 * Runs one agent on the episode's shared state. Once the experiment's budget is spent, a step
 * does nothing and costs nothing (the episode's decisions go on until Stop or the mode's budget).
 */
export async function runAgentStep(work: EpisodeWork, agent: Agent): Promise<AgentStepReport> {
  const trajectory = work.context.trajectory;
  const seen = () => ({ testerTests: work.tests.filter((test) => !test.trusted).length, codeRaises: work.best !== undefined && codeRaises(work.best.report.text) });
  if (trajectory.exhausted()) return { tokens: 0, costUsd: 0, ...seen() };
  const before = trajectory.spend();
  const ran: Agent = (agent === "Debugger" || agent === "Reviewer") && !work.best ? "Coder" : agent;
  const visiblePassFraction = await STEPS[ran](work);
  work.ran.push(ran);
  const after = trajectory.spend();
  const review = ran === "Reviewer" ? (work.guidance === undefined ? "accepted" : "rejected") : undefined;
  return { visiblePassFraction, tokens: after.tokens - before.tokens, costUsd: after.usd - before.usd, ...seen(), ...(review ? { review } : {}) };
}

/** Where the episode stands, in the fixed pipelines' terms: the candidate handed to the grader. */
export function episodeResult(work: EpisodeWork): PipelineResult {
  return { completion: work.best?.completion ?? "", iterations: work.iterations, stoppedBy: work.context.trajectory.exhausted() };
}

function askOptions(work: EpisodeWork) {
  return { signal: work.context.signal, maxTokens: work.spec.answerTokens };
}

/** Each agent's step; returns the best candidate's visible pass fraction when the step measured it. */
const STEPS: Record<Agent, (work: EpisodeWork) => Promise<number | undefined>> = {
  async Planner(work) {
    const { context } = work;
    const planned = await ask(PLANNER.humaneval, { task: context.task }, context.models.Planner, askOptions(work));
    context.trajectory.add(planned.call);
    work.plan = planned.output;
    return undefined;
  },

  /** New tests are added to the set, and the best candidate is re-checked against the whole set so every candidate is judged alike. */
  async Tester(work) {
    const { context } = work;
    const tester = await ask(TESTER.humaneval, { task: context.task }, context.models.Tester, askOptions(work));
    const known = new Set(work.tests.map((test) => test.name));
    work.tests.push(...testerTests(tester.output).filter((test) => !known.has(test.name)));
    if (!work.best) {
      context.trajectory.add(tester.call);
      return undefined;
    }
    const report = await runVisibleTests(context.sandbox, context.task, work.best.completion, work.tests);
    work.best = { completion: work.best.completion, report };
    context.trajectory.add(tester.call, { testOutput: report.text, visiblePassFraction: report.passFraction });
    return report.passFraction;
  },

  async Coder(work) {
    const { context } = work;
    const ranked = [...work.drafts].sort((a, b) => (b.report.passFraction ?? 0) - (a.report.passFraction ?? 0));
    const hybrid = !work.carryOver && work.spec.script.some((step) => step.coder === "hybrid") && work.best && !work.best.report.allPassed && ranked.length >= 2;
    if (hybrid) {
      const partner = ranked.find((draft) => draft.completion !== work.best!.completion) ?? ranked[1]!;
      const state = functionTaskState(context, work.best, { coderStart: { mergeWith: partner.completion } });
      const merged = await ask(CODER.humaneval, state, context.models.Coder, askOptions(work));
      work.best = better(work.best!, await checkAndRecord(context, merged, work.tests));
      work.iterations += 1;
      return work.best.report.passFraction;
    }
    const fresh = work.drafts.length === 0 || work.carryOver;
    const samples = fresh && work.spec.script.some((step) => step.coder === "drafts") ? context.settings.trajectories : undefined;
    const state = functionTaskState(context, work.best, { plan: work.plan, guidance: work.guidance, ...(work.carryOver ? { coderStart: "candidate" } : {}) });
    work.carryOver = false;
    const written = await writeDrafts(context, state, samples, work.spec.answerTokens);
    for (const draft of written) {
      const scored = await checkAndRecord(context, draft, work.tests);
      work.drafts.push(scored);
      work.best = work.best ? better(work.best, scored) : scored;
    }
    work.iterations += written.length;
    return work.best!.report.passFraction;
  },

  async Debugger(work) {
    work.best = await debugOnce(work.context, work.best!, work.tests, work.plan, work.guidance, work.spec.answerTokens);
    work.iterations += 1;
    return work.best.report.passFraction;
  },

  /** An acceptance clears earlier guidance; a rejection's reasons guide the next Coder or Debugger. */
  async Reviewer(work) {
    const { context } = work;
    const best = work.best!;
    const review = await ask(REVIEWER.humaneval, functionTaskState(context, best), context.models.Reviewer, askOptions(work));
    context.trajectory.add(review.call);
    work.guidance = review.output.accept ? undefined : review.output.feedback;
    return undefined;
  },
};

/** The first agent of a new rung: the laddered agent itself, or the Coder, which starts from the best candidate so far. */
export function escalateWork(work: EpisodeWork, change: { mode: Mode } | { context: PipelineContext }, laddered: Agent = "Coder"): Agent {
  if ("mode" in change) {
    work.mode = change.mode;
    work.spec = MODE_SPECS.humaneval[change.mode];
  } else {
    work.context = change.context;
  }
  work.carryOver = laddered === "Coder";
  return laddered;
}
