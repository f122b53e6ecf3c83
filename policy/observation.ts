import { allowedAgentChoices, MODES, type AgentChoice, type Mode } from "./actions.js";
import type { PublicTask } from "../tasks/task.js";
import { initialEpisodeState, type EpisodeState } from "./features.js";

/**
 * What the next decision may choose: modes at the first decision, agents (or Stop)
 * afterwards. `pipelineAgent`, when an environment knows it, is what would run here without
 * a policy (the mode's fixed pipeline, or the logged run in a replay): the always-<mode>
 * baselines follow it.
 */
export type AllowedActions =
  | { kind: "mode"; modes: readonly Mode[] }
  | { kind: "agent"; agents: readonly AgentChoice[]; pipelineAgent?: AgentChoice };

/**
 * Everything a decision is made from. Environments produce these; the orchestrator builds
 * them with observe(). `allowed` is explicit because an environment may narrow the
 * mode's rules (a replay can only continue the logged run or stop).
 */
export interface Observation {
  task: PublicTask;
  episode: EpisodeState;
  allowed: AllowedActions;
}

/** The observation for a task at a given state, with the actions the mode rules allow. */
export function observe(task: PublicTask, episode: EpisodeState = initialEpisodeState()): Observation {
  const allowed: AllowedActions =
    episode.mode === null
      ? { kind: "mode", modes: MODES }
      : { kind: "agent", agents: allowedAgentChoices(episode.mode, episode.steps) };
  return { task, episode, allowed };
}
