import { allowedAgentChoices, type Action, type Agent, type AgentChoice, type Mode } from "../policy/actions.js";
import { initialEpisodeState, type EpisodeState } from "../policy/features.js";
import type { Observation } from "../policy/observation.js";
import {
  advanceEpisodeState,
  type AgentStepReport,
  type EnvironmentSource,
  type EpisodeOutcome,
  type OracleOutcome,
  type StepInfo,
  type StepResult,
} from "./environment.js";
import { progressReward, stepCostPenalty, successBonus, type RewardConfig } from "./rewards.js";

/**
 * The step rules every environment shares (see environment.ts), written once so that an
 * episode means the same in the simulator, in a replay and live: the first action picks the
 * mode, each later one runs an agent or stops; the reward is training/rewards.ts's progress
 * minus cost penalty, plus the success bonus at the end; the last step's info sums the
 * episode up.
 *
 * An environment keeps an EpisodeRecord per episode and, for each step, hands stepEpisode an
 * EpisodeDriver: how its episodes really start, run an agent and end. That is all that
 * differs between them.
 */

/** What every environment tracks about the episode in play, the same way. */
export interface EpisodeRecord {
  taskId: string;
  /** What the policy sees of the episode so far; its mode is null until the mode decision. */
  state: EpisodeState;
  /** The agents that ran, in order (Stop is not an agent). */
  agents: Agent[];
  /** Sum of the rewards so far. */
  return: number;
  /** How many times the episode moved up its ladder. */
  escalations: number;
  done: boolean;
}

export function newEpisodeRecord(taskId: string): EpisodeRecord {
  return { taskId, state: initialEpisodeState(), agents: [], return: 0, escalations: 0, done: false };
}

/** The episode `step` may act on: one has been reset and has not ended. */
export function episodeInProgress<E extends EpisodeRecord>(episode: E | null, environmentName: string): E {
  if (!episode || episode.done) throw new Error(`${environmentName}.step called without an episode in progress; call reset()`);
  return episode;
}

export interface LadderPosition {
  rung: number;
  rungs: number;
}

/** What an Escalate did: the rung it moved to (its mode) and the first agent that ran there. */
export interface EscalationReport {
  mode: Mode;
  agent: Agent;
  report: AgentStepReport;
}

/** The parts of a step that are an environment's own. */
export interface EpisodeDriver {
  source: EnvironmentSource;
  rewards: RewardConfig;
  /** Begins the episode in the mode the first action chose; with a ladder, says which rung of how many that is. */
  start(mode: Mode): void | LadderPosition | Promise<void | LadderPosition>;
  /** Throws when the action's agent (or Stop) may not be chosen now. */
  assertAllowed(agent: AgentChoice): void;
  /** Runs one agent; the record is advanced with its report afterwards. */
  run(agent: Agent): AgentStepReport | Promise<AgentStepReport>;
  /** Moves to the next rung of the ladder and runs its first agent (environments that offer a ladder). */
  escalate?(): EscalationReport | Promise<EscalationReport>;
  /** Whether nothing more can run after this step, so the episode ends without a Stop. */
  outOfSteps(): boolean;
  /** The hidden-test verdict of the episode; asked once, when it ends (live, it is a paid grading). */
  finish(): boolean | Promise<boolean>;
  /** The best achievable on this episode, for environments that can know it. */
  oracle?(): OracleOutcome;
  /** What the policy sees after the step. */
  observe(): Observation;
}

/**
 * assertAllowed and outOfSteps by the mode rules of policy/actions.ts, which live and
 * synthetic episodes follow (a replay narrows them to its logged run).
 */
export function modeRules(episode: EpisodeRecord): Pick<EpisodeDriver, "assertAllowed" | "outOfSteps"> {
  return {
    assertAllowed(agent) {
      const { mode, steps } = episode.state;
      if (!allowedAgentChoices(mode!, steps).includes(agent)) throw new Error(`${agent} is not allowed in ${mode} mode after ${steps} steps`);
    },
    outOfSteps: () => allowedAgentChoices(episode.state.mode!, episode.state.steps).length === 0,
  };
}

/** The state once the mode decision starts the episode: its mode, and with a ladder its rung of how many. */
export function startedState(state: EpisodeState, mode: Mode, position?: LadderPosition): EpisodeState {
  return { ...state, mode, ...(position ?? {}) };
}

/** The state once an Escalate moved the episode up one rung, to `mode` (before that rung's first agent). */
export function escalatedState(state: EpisodeState, mode: Mode): EpisodeState {
  return { ...state, mode, rung: state.rung + 1 };
}

/** Plays one action of `episode` (updating the record in place) and says what it earned. */
export async function stepEpisode(episode: EpisodeRecord, action: Action, driver: EpisodeDriver): Promise<StepResult> {
  const { source, rewards } = driver;
  if (episode.state.mode === null) {
    if (action.kind !== "mode") throw new Error("the first action of an episode must be a mode");
    const position = await driver.start(action.mode);
    episode.state = startedState(episode.state, action.mode, position ?? undefined);
    const zero: StepInfo = { source, progress: 0, costPenalty: 0, successBonus: 0, tokens: 0, costUsd: 0 };
    return { state: driver.observe(), reward: 0, done: false, info: zero };
  }

  if (action.kind !== "agent") throw new Error("a mode was given after the mode decision");
  driver.assertAllowed(action.agent);

  let progress = 0;
  let penalty = 0;
  let tokens = 0;
  let costUsd = 0;
  let ranAgent: Agent | undefined;
  if (action.agent !== "Stop") {
    let report: AgentStepReport;
    if (action.agent === "Escalate") {
      if (!driver.escalate) throw new Error(`the ${source} environment offers no ladder to escalate on`);
      const escalation = await driver.escalate();
      ranAgent = escalation.agent;
      report = escalation.report;
      episode.state = escalatedState(episode.state, escalation.mode);
      episode.escalations++;
    } else {
      ranAgent = action.agent;
      report = await driver.run(ranAgent);
    }
    const before = episode.state.visiblePassFraction;
    episode.state = advanceEpisodeState(episode.state, { agent: ranAgent, ...report });
    progress = progressReward(before, episode.state.visiblePassFraction, rewards);
    tokens = report.tokens;
    costUsd = report.costUsd;
    penalty = stepCostPenalty(report, rewards);
    episode.agents.push(ranAgent);
  }

  const done = action.agent === "Stop" || driver.outOfSteps();
  const success = done ? await driver.finish() : false;
  const bonus = done ? successBonus(success, rewards) : 0;
  const reward = progress - penalty + bonus;
  episode.return += reward;
  episode.done = done;

  const info: StepInfo = {
    source,
    agent: ranAgent,
    progress,
    costPenalty: penalty,
    successBonus: bonus,
    tokens,
    costUsd,
    outcome: done ? episodeOutcome(episode, source, success, driver.oracle?.()) : undefined,
  };
  return { state: driver.observe(), reward, done, info };
}

function episodeOutcome(episode: EpisodeRecord, source: EnvironmentSource, success: boolean, oracle: OracleOutcome | undefined): EpisodeOutcome {
  const outcome: EpisodeOutcome = {
    source,
    taskId: episode.taskId,
    mode: episode.state.mode!,
    agents: [...episode.agents],
    success,
    tokens: episode.state.tokens,
    costUsd: episode.state.costUsd,
    return: episode.return,
    escalations: episode.escalations,
  };
  // Only environments with an oracle set the field, so a live outcome has no `oracle` key at all.
  if (oracle) outcome.oracle = oracle;
  return outcome;
}
