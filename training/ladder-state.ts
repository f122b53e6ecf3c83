import type { Mode } from "../policy/actions.js";
import { initialEpisodeState, type EpisodeState, type LadderCosts } from "../policy/features.js";
import { advanceEpisodeState } from "./environment.js";
import { escalatedState, startedState } from "./episode-steps.js";
import { agentSteps, type StepLike } from "./replay-log.js";

/**
 * The episode state at a rung's end, from the trajectory so far, built by the transitions
 * training's episodes use (episode-steps.ts: start, escalate, one agent step at a time) over the
 * agent steps a replay reads from stored steps (replay-log.ts agentSteps). So `solve --mode auto
 * --ladder` asks its policy in the states the policy was trained on, not in hand-made ones.
 */
export interface LadderTrajectory {
  /** The rungs played so far, in order: each its mode and the steps recorded on it (model calls, tool calls, koderz's checks). */
  rungs: readonly { mode: Mode; steps: readonly StepLike[] }[];
  /** The rung the episode started on (0 is the cheapest) and how many the ladder has. */
  startRung: number;
  rungCount: number;
  ladderCosts?: LadderCosts | null;
}

export function ladderEpisodeState(trajectory: LadderTrajectory): EpisodeState {
  const [first, ...rest] = trajectory.rungs;
  if (!first) throw new Error("a ladder trajectory has at least the rung it started on");
  let state = startedState({ ...initialEpisodeState(), ladderCosts: trajectory.ladderCosts ?? null }, first.mode, { rung: trajectory.startRung, rungs: trajectory.rungCount });
  const play = (steps: readonly StepLike[]): void => {
    for (const step of agentSteps(steps)) state = advanceEpisodeState(state, { agent: step.agent, tokens: step.tokens, costUsd: step.costUsd, ...(step.visiblePassFraction === undefined ? {} : { visiblePassFraction: step.visiblePassFraction }) });
  };
  play(first.steps);
  for (const rung of rest) {
    state = escalatedState(state, rung.mode);
    play(rung.steps);
  }
  return state;
}
