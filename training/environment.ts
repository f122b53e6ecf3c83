import type { Action, Agent, Mode } from "../policy/actions.js";
import type { EpisodeState } from "../policy/features.js";
import type { Observation } from "../policy/observation.js";

/**
 * One interface for every source of experience: the simulator (synthetic-environment.ts),
 * replays of stored runs (replay-environment.ts) and live runs through the orchestrator
 * (live-environment.ts).
 *
 *   const state = await env.reset();            // a new episode: a task, nothing done yet
 *   const { state, reward, done, info } = await env.step(action);
 *
 * The action structure (see policy/actions.ts):
 *   - the first action of an episode is a mode ({ kind: "mode" }); its reward is 0;
 *   - every later action is an agent or Stop ({ kind: "agent" }), allowed by the mode's
 *     rules (or narrower: state.allowed always says what is allowed now);
 *   - the episode ends on Stop, or when the mode's step budget is spent, or when the
 *     environment has nothing more to offer (a replayed run ended). The last step's reward
 *     includes the success bonus, and its info.outcome sums the episode up.
 * Rewards are those of training/rewards.ts, so returns are comparable across environments.
 */
export type EnvironmentSource = "synthetic" | "replay" | "live";

export interface Environment {
  /** Where the experience comes from; every result derived from it carries this label. */
  readonly source: EnvironmentSource;
  reset(): Promise<Observation>;
  step(action: Action): Promise<StepResult>;
}

export interface StepResult {
  /** The state after the action; when done, the final state (nothing allowed). */
  state: Observation;
  reward: number;
  done: boolean;
  info: StepInfo;
}

export interface StepInfo {
  source: EnvironmentSource;
  /** The agent that ran in this step (absent for the mode decision and for Stop). */
  agent?: Agent;
  /** The parts of the reward, so logs and tests can check each. */
  progress: number;
  costPenalty: number;
  successBonus: number;
  tokens: number;
  costUsd: number;
  /** Present on the last step of an episode. */
  outcome?: EpisodeOutcome;
}

export interface EpisodeOutcome {
  source: EnvironmentSource;
  taskId: string;
  mode: Mode;
  agents: Agent[];
  success: boolean;
  tokens: number;
  costUsd: number;
  /** Sum of the episode's rewards. */
  return: number;
  /** How many times the episode escalated to a dearer rung (0 without a ladder). */
  escalations?: number;
  /** The best achievable on this episode, when the environment can know it (synthetic, replay). */
  oracle?: OracleOutcome;
}

/**
 * What an oracle achieves on the same episode. Synthetic: the optimal plan given the task's
 * latent difficulty, in expectation (success is a probability). Replay: the best logged
 * configuration and stopping point in hindsight (success is 0 or 1).
 */
export interface OracleOutcome {
  return: number;
  success: number;
  tokens: number;
  costUsd: number;
  mode: Mode;
  agents: Agent[];
}

/** What one agent step did, as the environment measured it. */
/** What one agent step measured and spent, and what else a user could see after it; every environment reports a step so. */
export interface AgentStepReport {
  /** The visible pass fraction after the step, or undefined when this step ran no visible tests. */
  visiblePassFraction?: number;
  tokens: number;
  costUsd: number;
  /** What else a user could see after the step, when the step showed it (see EpisodeState). */
  testerTests?: number;
  review?: "accepted" | "rejected";
  codeRaises?: boolean;
}

/** The episode state after an agent step; shared by all environments so features mean the same everywhere. */
export function advanceEpisodeState(state: EpisodeState, effect: AgentStepReport & { agent: Agent }): EpisodeState {
  const measured = effect.visiblePassFraction !== undefined;
  return {
    ...state,
    steps: state.steps + 1,
    lastAgent: effect.agent,
    agentCounts: { ...state.agentCounts, [effect.agent]: state.agentCounts[effect.agent] + 1 },
    visiblePassFraction: measured ? effect.visiblePassFraction! : state.visiblePassFraction,
    visibleTestsRun: state.visibleTestsRun || measured,
    tokens: state.tokens + effect.tokens,
    costUsd: state.costUsd + effect.costUsd,
    lastStepTokens: effect.tokens,
    lastStepCostUsd: effect.costUsd,
    testerTests: effect.testerTests ?? state.testerTests,
    review: effect.review ?? state.review,
    codeRaises: effect.codeRaises ?? state.codeRaises,
  };
}
