import { CODER } from "../../../agents/coder.js";
import { DEBUGGER } from "../../../agents/debugger.js";
import { PLANNER } from "../../../agents/planner.js";
import { REVIEWER } from "../../../agents/reviewer.js";
import { ask } from "../../../agents/run-agent.js";
import type { FunctionTaskState } from "../../../agents/team-state.js";
import { TESTER } from "../../../agents/tester.js";
import type { Mode } from "../../../policy/actions.js";
import { MODE_SPECS } from "../../../policy/mode-spec.js";
import { exampleTests, runVisibleTests, testerTests, type VisibleTest } from "../../evaluation/visible-tests.js";
import type { ClimbPlug } from "../engine/ladder-climb.js";
import { guidanceOf, TeamEpisode, type ProductPlug, type TeamWork } from "../engine/team-episode.js";
import { better, checkAndRecord, functionTaskState, type Pipeline, type PipelineContext, type PipelineResult, type Scored } from "../pipeline.js";

/**
 * The function-task product (HumanEval-style: a stub, its docstring's examples, hidden tests) as
 * it plugs into the episode engine (engine/team-episode.ts). Its task state is the public task,
 * the visible tests (the docstring's examples, then the Tester's asserts) and the best candidate
 * so far with its report: a candidate is kept only when it passes more visible tests than the one
 * in hand, every candidate is checked in the sandbox as it is written, and the model call that
 * wrote it is recorded with that check. The grader (the hidden tests) judges the best candidate
 * after the episode (experiment.ts, episode-runner.ts).
 */
export interface FunctionWork extends TeamWork {
  tests: VisibleTest[];
  best?: Scored;
  /** Every draft the Coder wrote, for the hybrid step. */
  drafts: Scored[];
}

export type FunctionEpisode = TeamEpisode<FunctionWork, FunctionTaskState>;

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

const SPECS = { Planner: PLANNER.humaneval, Coder: CODER.humaneval, Tester: TESTER.humaneval, Debugger: DEBUGGER.humaneval, Reviewer: REVIEWER.humaneval };

function functionPlug(context: PipelineContext): ProductPlug<FunctionWork, FunctionTaskState> {
  const { trajectory } = context;
  return {
    product: "humaneval",
    specs: SPECS,
    trajectory,
    settings: context.settings,

    async state(work, agent, start) {
      if (agent === "Planner" || agent === "Tester") return { task: context.task };
      if (agent === "Reviewer") return functionTaskState(context, work.best);
      if (agent === "Coder" && start === "merge") {
        const ranked = [...work.drafts].sort((a, b) => (b.report.passFraction ?? 0) - (a.report.passFraction ?? 0));
        const partner = ranked.find((draft) => draft.completion !== work.best!.completion) ?? ranked[1]!;
        return functionTaskState(context, work.best, { coderStart: { mergeWith: partner.completion } });
      }
      return functionTaskState(context, work.best, { plan: work.plan, guidance: guidanceOf(work), ...(start === "carryOver" ? { coderStart: "candidate" } : {}) });
    },

    answer: (work, spec, state, sample) => ask(spec, state, work.models[spec.agent], { signal: context.signal, maxTokens: MODE_SPECS.humaneval[work.mode].answerTokens, ...sample }),

    /** New tests are added to the set, and the best candidate is re-checked against the whole set so every candidate is judged alike. */
    async tested(work, tester) {
      const known = new Set(work.tests.map((test) => test.name));
      work.tests.push(...testerTests(tester.output).filter((test) => !known.has(test.name)));
      if (!work.best) {
        trajectory.add(tester.call!);
        return undefined;
      }
      const report = await runVisibleTests(context.sandbox, context.task, work.best.completion, work.tests);
      work.best = { completion: work.best.completion, report };
      trajectory.add(tester.call!, { testOutput: report.text, visiblePassFraction: report.passFraction });
      return report.passFraction;
    },

    async written(work, answers, { draft }) {
      for (const answer of answers) {
        const scored = await checkAndRecord(context, { output: answer.output, call: answer.call! }, work.tests);
        if (draft) work.drafts.push(scored);
        work.best = work.best ? better(work.best, scored) : scored;
      }
      return work.best!.report.passFraction;
    },

    evidence: (work) => ({ failing: work.best !== undefined && !work.best.report.allPassed, drafts: work.drafts.length }),
    hasCandidate: (work) => work.best !== undefined,
    seen: (work) => ({ testerTests: work.tests.filter((test) => !test.trusted).length, codeRaises: work.best !== undefined && codeRaises(work.best.report.text) }),
  };
}

/** A function task's episode in `mode`: nothing done yet, the docstring's examples as its first tests. */
export function functionEpisode(context: PipelineContext, mode: Mode): FunctionEpisode {
  const work: FunctionWork = { mode, models: context.models, ran: [], iterations: 0, carryOver: false, tests: exampleTests(context.task), drafts: [] };
  return new TeamEpisode(functionPlug(context), work);
}

/** Where the episode stands, in the pipelines' terms: the candidate handed to the grader. */
export function episodeResult(episode: FunctionEpisode): PipelineResult {
  return { completion: episode.work.best?.completion ?? "", iterations: episode.work.iterations, stoppedBy: episode.plug.trajectory.exhausted() };
}

/**
 * The fixed pipelines of fast, standard and deep: the engine plays the mode's script from the mode
 * spec (policy/mode-spec.ts), with the same agent steps as the meta-controller's live episodes
 * (episode-runner.ts). The script reads the evidence after each step (the best candidate's checks,
 * the Reviewer's verdict), so, for deep: Planner, Tester (from the specification alone, before any
 * code), K parallel Coder drafts, Debugger rounds on the best while it fails, a hybrid of the best
 * two when it still fails, the Reviewer; a rejection buys one Debugger round guided by the review.
 * fast is also the zero-shot HumanEval protocol: one Coder call, checked against the docstring's
 * examples only to record the step's visible pass fraction (nothing is fed back).
 */
export function scriptedPipeline(mode: Mode): Pipeline {
  return async (context) => {
    const episode = functionEpisode(context, mode);
    await episode.playScript();
    return { ...episodeResult(episode), stoppedBy: episode.work.stoppedBy };
  };
}

/** A function task on a ladder: a rung ends with the best candidate's visible tests; the next rung's Coder starts from it. */
export const FUNCTION_CLIMB: ClimbPlug<FunctionWork> = {
  async rungCheck(work) {
    const report = work.best?.report;
    return { passed: report?.allPassed ?? false, changed: report !== undefined, failure: `the visible tests failing (${report?.text.split("\n")[0] ?? "no code"})` };
  },
  handOn: () => undefined,
};
