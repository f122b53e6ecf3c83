import { MODE_SPECS } from "./mode-spec.js";

/**
 * The meta-controller's action space: a mode for the whole episode, then one agent at a time.
 *
 * An episode is a sequence of decisions:
 *   1. the first decision picks a mode (the mode head);
 *   2. every later decision picks the next agent, or Stop (the agent head),
 *      until Stop or until the mode's step budget is spent.
 *
 * The mode is what makes the mode head worth training: it constrains the agent head
 * (which agents are allowed, how many agent steps the episode may take) and, in the
 * orchestrator, how much reasoning each call gets. So a wrong mode either forbids the
 * agents a hard task needs or pays for reasoning an easy task does not need, and the
 * return of the whole episode flows back to the mode decision.
 */

export { AGENTS, MODES, type Agent, type Mode } from "./modes-and-agents.js";
import { AGENTS, MODES, type Agent, type Mode } from "./modes-and-agents.js";

/**
 * The agent head's outputs: the five agents, Stop, and Escalate (move to the next rung of the
 * episode's ladder: a dearer mode or model that inherits the work so far), in this fixed order.
 * Escalate is allowed only where an environment offers a ladder (state.allowed says so).
 */
export const AGENT_CHOICES = [...AGENTS, "Stop", "Escalate"] as const;
export type AgentChoice = (typeof AGENT_CHOICES)[number];

export type Action = { kind: "mode"; mode: Mode } | { kind: "agent"; agent: AgentChoice };

export interface ModeRule {
  /** Agents the agent head may pick in this mode (Stop is always allowed). */
  allowedAgents: readonly Agent[];
  /** The episode ends after this many agent steps even without Stop. */
  maxAgentSteps: number;
}

/** The mode rules of HumanEval-style episodes, as the one mode spec (mode-spec.ts) declares them. */
export const MODE_RULES: Readonly<Record<Mode, ModeRule>> = {
  fast: modeRule("fast"),
  standard: modeRule("standard"),
  deep: modeRule("deep"),
};

function modeRule(mode: Mode): ModeRule {
  const { allowedAgents, maxAgentSteps } = MODE_SPECS.humaneval[mode];
  return { allowedAgents, maxAgentSteps };
}

/** The largest step budget of any mode; episode-state features are scaled by it. */
export const MAX_AGENT_STEPS = Math.max(...MODES.map((mode) => MODE_RULES[mode].maxAgentSteps));

/** What the agent head may choose after `steps` agent steps in `mode`: its agents and Stop, or nothing when the budget is spent. */
export function allowedAgentChoices(mode: Mode, steps: number): AgentChoice[] {
  const rule = MODE_RULES[mode];
  return steps >= rule.maxAgentSteps ? [] : [...rule.allowedAgents, "Stop"];
}

export function isMode(value: string): value is Mode {
  return (MODES as readonly string[]).includes(value);
}

export function isAgent(value: string): value is Agent {
  return (AGENTS as readonly string[]).includes(value);
}

export function describeAction(action: Action): string {
  return action.kind === "mode" ? `mode ${action.mode}` : action.agent;
}
