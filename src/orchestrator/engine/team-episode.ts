import type { Agent, AgentCall, AgentSpec } from "../../../agents/agent.js";
import type { Review } from "../../../agents/reviewer.js";
import type { Mode } from "../../../policy/actions.js";
import { MODE_SPECS, nextScriptedAgent, type ModeSpec, type Product, type ScriptEvidence, type ScriptSettings, type ScriptStep } from "../../../policy/mode-spec.js";
import type { AgentStepReport } from "../../../training/environment.js";
import type { ModelBackend } from "../../llm/types.js";
import { modeOnRung, modelsOnRung, type Ladder } from "../ladder.js";
import type { Trajectory } from "../trajectory.js";

/**
 * THE episode engine, for both products: one team's work on one task, one agent at a time. A
 * mode's script (policy/mode-spec.ts) or a policy picks the agents; this file says what each agent
 * does to the shared work (AGENT_STEPS, the one agent-step table), how a script is played
 * (playScript), and how the work is handed to a dearer rung (escalate; ladder-climb.ts climbs).
 *
 * What differs between a HumanEval-style function task and an issue on a repository is plugged in
 * (ProductPlug): the task state an agent reads, the agents' specs for the product, how an agent is
 * asked (one answer, or a tool-using turn in a workspace), and the checks that grade a change
 * (visible tests on a candidate, or the repository's tests on the workspace). The plug-ins are
 * src/orchestrator/pipelines/function-task.ts and src/orchestrator/solve/repository-task.ts.
 */

/** The work every product's team shares; a product's work adds its task state (candidates, checks). */
export interface TeamWork {
  mode: Mode;
  /** The agents' models on the rung the episode is on (a ladder of models changes one). */
  models: Record<Agent, ModelBackend>;
  /** The agents that ran on this rung, in script order (a new rung starts from its resume point). */
  ran: Agent[];
  plan?: string;
  /** The Reviewer's last verdict; a rejection's feedback guides the next Coder or Debugger. */
  review?: Review;
  /** Code versions written (the Coder's drafts, the Debugger's fixes): the experiment's iterations. */
  iterations: number;
  /** Set by an escalation: the next Coder starts from the change so far and its check report. */
  carryOver: boolean;
  /** Set when a budget cut the episode short. */
  stoppedBy?: string;
}

/** One agent's answer: its output, what stopped a tool-using turn, and (one-answer agents) the model call the caller records. */
export interface Answer<Output> {
  output: Output;
  stoppedBy?: string;
  call?: AgentCall;
}

/** How the Coder starts: a fresh draft, from the change so far (after an escalation), or merging the best two drafts (deep's hybrid). */
export type CoderStart = "fresh" | "carryOver" | "merge";

/** Each agent's spec on one product, over the product's task state. */
export interface TeamSpecs<State> {
  Planner: AgentSpec<State, string>;
  Coder: AgentSpec<State, string>;
  Tester: AgentSpec<State, string[]>;
  Debugger: AgentSpec<State, string>;
  Reviewer: AgentSpec<State, Review>;
}

/** Whether a check passed and what it showed, as a visible pass fraction (undefined: the step checked nothing). */
export type Checked = number | undefined;

/** What a product plugs into the engine. */
export interface ProductPlug<W extends TeamWork, State> {
  readonly product: Product;
  /** The agents' specs for this product. */
  readonly specs: TeamSpecs<State>;
  readonly trajectory: Trajectory;
  readonly settings: ScriptSettings;
  /** The task state `agent` reads now (a repository's may run the tests first, to show their report). */
  state(work: W, agent: Agent, start?: CoderStart): Promise<State>;
  /** Asks an agent: one answer (the caller records its call), or a tool-using turn logged as it happens. */
  answer<Output>(work: W, spec: AgentSpec<State, Output>, state: State, sample?: { seed: number; temperature: number }): Promise<Answer<Output>>;
  /** The Tester's tests join the checks (and the candidate in hand is checked against them). */
  tested(work: W, tester: Answer<string[]>): Promise<Checked>;
  /** Code the Coder or the Debugger wrote is checked and recorded; `draft`: a fresh Coder draft (the hybrid step merges two); `guided`: a fix the Reviewer asked for, which ends the script. */
  written(work: W, answers: Answer<string>[], how: { draft: boolean; guided: boolean }): Promise<Checked>;
  /** What the script's conditions read besides the review: whether the change fails its checks, a named failing test, the drafts. */
  evidence(work: W): Omit<ScriptEvidence, "rejected">;
  /** Whether there is code a Debugger or a Reviewer can work on. */
  hasCandidate(work: W): boolean;
  /** What else a user could see after a step (the Tester's tests, whether the code raises). */
  seen(work: W): Pick<AgentStepReport, "testerTests" | "codeRaises">;
}

/** Sampling temperature for parallel drafts: diverse enough that K samples differ. */
const DRAFT_TEMPERATURE = 0.8;

/** The Reviewer's objections while its last verdict is a rejection. */
export function guidanceOf(work: TeamWork): string | undefined {
  return work.review?.accept === false ? work.review.feedback : undefined;
}

type AgentStep = <W extends TeamWork, S>(work: W, plug: ProductPlug<W, S>) => Promise<{ checked: Checked; stoppedBy?: string }>;

/** THE agent-step table: what each agent does to the shared work, on either product. */
const AGENT_STEPS: Record<Agent, AgentStep> = {
  async Planner(work, plug) {
    const planned = await plug.answer(work, plug.specs.Planner, await plug.state(work, "Planner"));
    if (planned.call) plug.trajectory.add(planned.call);
    work.plan = planned.output;
    return { checked: undefined, stoppedBy: planned.stoppedBy };
  },

  async Tester(work, plug) {
    const tester = await plug.answer(work, plug.specs.Tester, await plug.state(work, "Tester"));
    return { checked: await plug.tested(work, tester), stoppedBy: tester.stoppedBy };
  },

  /**
   * The first Coder of a mode whose script samples drafts writes the trajectories setting's drafts in
   * parallel; once two drafts exist and the best still fails, a Coder merges the best two (the
   * hybrid). Otherwise it writes one draft, from the change so far right after an escalation.
   */
  async Coder(work, plug) {
    const { script } = specOf(work, plug);
    const evidence = plug.evidence(work);
    if (!work.carryOver && script.some((step) => step.coder === "hybrid") && evidence.failing && evidence.drafts >= 2) {
      const merged = await plug.answer(work, plug.specs.Coder, await plug.state(work, "Coder", "merge"));
      work.iterations += 1;
      return { checked: await plug.written(work, [merged], { draft: false, guided: false }), stoppedBy: merged.stoppedBy };
    }
    const fresh = evidence.drafts === 0 || work.carryOver;
    const samples = fresh && script.some((step) => step.coder === "drafts") ? plug.settings.trajectories : undefined;
    const state = await plug.state(work, "Coder", work.carryOver ? "carryOver" : "fresh");
    work.carryOver = false;
    const written =
      samples === undefined
        ? [await plug.answer(work, plug.specs.Coder, state)]
        : await Promise.all(Array.from({ length: samples }, (_, seed) => plug.answer(work, plug.specs.Coder, state, { seed, temperature: DRAFT_TEMPERATURE })));
    work.iterations += written.length;
    return { checked: await plug.written(work, written, { draft: true, guided: false }), stoppedBy: written.find((answer) => answer.stoppedBy)?.stoppedBy };
  },

  /** Fixes what the checks caught; after a rejection, guided by the review. */
  async Debugger(work, plug) {
    const guided = guidanceOf(work) !== undefined;
    const fix = await plug.answer(work, plug.specs.Debugger, await plug.state(work, "Debugger"));
    work.iterations += 1;
    return { checked: await plug.written(work, [fix], { draft: false, guided }), stoppedBy: fix.stoppedBy };
  },

  /** An acceptance clears earlier guidance; a rejection's reasons guide the next Coder or Debugger. */
  async Reviewer(work, plug) {
    const review = await plug.answer(work, plug.specs.Reviewer, await plug.state(work, "Reviewer"));
    if (review.call) plug.trajectory.add(review.call);
    if (!review.stoppedBy) work.review = review.output;
    return { checked: undefined, stoppedBy: review.stoppedBy };
  },
};

function specOf(work: TeamWork, plug: { product: Product }): ModeSpec {
  return MODE_SPECS[plug.product][work.mode];
}

/** What one step reports: what the policy sees of it, and what stopped it. */
export interface StepOutcome extends AgentStepReport {
  stoppedBy?: string;
}

/** One team's episode on one task: the product's plug and the shared work. */
export class TeamEpisode<W extends TeamWork, S = unknown> {
  /** Every agent that worked on any rung (a new rung does not repeat their steps, see resumePoint). */
  readonly worked = new Set<Agent>();

  constructor(
    readonly plug: ProductPlug<W, S>,
    readonly work: W,
    /** The models the episode started with; a ladder of models replaces one agent's per rung. */
    private readonly baseModels: Record<Agent, ModelBackend> = work.models,
  ) {}

  get spec(): ModeSpec {
    return specOf(this.work, this.plug);
  }

  /** What the mode's script runs next, or Stop. */
  scriptedNext(): Agent | "Stop" {
    const { work, plug } = this;
    return nextScriptedAgent(this.spec.script, work.ran, { ...plug.evidence(work), rejected: guidanceOf(work) !== undefined }, plug.settings);
  }

  /**
   * Runs one agent on the shared work. Once the budget is spent a step does nothing and costs
   * nothing (a policy's decisions go on until Stop or the mode's step budget). The Debugger and
   * the Reviewer work on a candidate, so before the first one exists the Coder runs instead (the
   * step is the Coder's, because the Coder's model is what ran).
   */
  async step(agent: Agent): Promise<StepOutcome> {
    const { work, plug } = this;
    const { trajectory } = plug;
    const seen = () => plug.seen(work);
    if (trajectory.exhausted()) return { tokens: 0, costUsd: 0, ...seen() };
    const before = trajectory.spend();
    const ran: Agent = (agent === "Debugger" || agent === "Reviewer") && !plug.hasCandidate(work) ? "Coder" : agent;
    const { checked, stoppedBy } = await AGENT_STEPS[ran](work, plug);
    work.ran.push(ran);
    this.worked.add(ran);
    const after = trajectory.spend();
    const review = ran === "Reviewer" && work.review ? (work.review.accept ? "accepted" : "rejected") : undefined;
    return { visiblePassFraction: checked, tokens: after.tokens - before.tokens, costUsd: after.usd - before.usd, ...seen(), ...(review ? { review } : {}), ...(stoppedBy ? { stoppedBy } : {}) };
  }

  /** Plays the mode's script from where the work stands until it ends or a budget does. */
  async playScript(): Promise<void> {
    const { work, plug } = this;
    for (let next = this.scriptedNext(); next !== "Stop"; next = this.scriptedNext()) {
      if ((work.stoppedBy = plug.trajectory.exhausted())) return;
      if ((work.stoppedBy = (await this.step(next)).stoppedBy)) return;
    }
  }

  /** Puts the episode on a ladder's rung: its mode (a ladder of modes) or its agent's model (a ladder of models). */
  enterRung(ladder: Ladder, rung: number, backend: (model: string) => ModelBackend): void {
    this.work.mode = modeOnRung(ladder, rung, this.work.mode);
    this.work.models = modelsOnRung(ladder, rung, this.baseModels, backend);
  }

  /**
   * Climbs to `rung`, keeping the work: the new rung's script resumes at the laddered agent (the
   * Coder on a ladder of modes, the ladder's agent on a ladder of models), and a Coder there
   * starts from the change so far. Returns the laddered agent.
   */
  escalate(ladder: Ladder, rung: number, backend: (model: string) => ModelBackend): Agent {
    this.enterRung(ladder, rung, backend);
    const laddered: Agent = ladder.kind === "models" ? ladder.agent : "Coder";
    this.work.ran = resumePoint(this.spec.script, laddered, this.worked, this.plug.settings);
    this.work.carryOver = laddered === "Coder";
    return laddered;
  }
}

/**
 * Where a new rung's script resumes, as the agents it counts as having run: it starts at the
 * escalated agent, and the steps before that whose agents already worked on a cheaper rung are not
 * repeated (their plan and tests are kept); steps a cheaper rung never ran, such as a deeper mode's
 * Planner, run first.
 */
export function resumePoint(script: readonly ScriptStep[], firstAgent: Agent, worked: ReadonlySet<Agent>, settings: Pick<ScriptSettings, "debugRounds">): Agent[] {
  const ran: Agent[] = [];
  for (const step of script) {
    if (step.agent === firstAgent) break;
    if (!worked.has(step.agent)) continue;
    const times = step.rounds ? settings.debugRounds + step.rounds.extraRounds : 1;
    for (let round = 0; round < times; round += 1) ran.push(step.agent);
  }
  return ran;
}
