import { z } from "zod";
import { AGENT_CHOICES, MODES, type Action, type AgentChoice, type Mode } from "./actions.js";
import type { EpisodeState } from "./features.js";
import type { Observation } from "./observation.js";
import { chooseModeOf, chooseNextAgentOf, type Decision, type DecisionOptions, type Router } from "./router.js";
import type { PublicTask } from "../tasks/task.js";

/**
 * The rules a user could write instead of training a network (FrugalGPT / AutoMix cascades):
 * start on a rung of the ladder, let each rung run its own script, and at a rung's end climb
 * when the evidence says so, or stop.
 *
 * - startRung: 0 is the cheapest rung the episode offers (offers list modes cheapest first),
 *   clamped to the dearest; so a rule means the same on any ladder.
 * - escalateOn: "visible-failure" climbs when a visible check failed (a docstring example, or the
 *   code does not run); "any-failure" also climbs when nothing visible passed for sure (no
 *   visible test ran, or the Reviewer rejected).
 * - budgetShare: climb only while what is spent plus the next rung's mean cost stays within this
 *   share of the dearest rung's mean cost (needs the ladder's price list; without one, no limit).
 */
export const cascadeRuleSchema = z.object({
  kind: z.literal("cascade"),
  startRung: z.number().int().nonnegative(),
  escalateOn: z.enum(["visible-failure", "any-failure"]),
  budgetShare: z.number().positive().nullable(),
});
export type CascadeRule = z.infer<typeof cascadeRuleSchema>;

/** The hand cascade: cheapest first, climb when a visible example fails, no budget. */
export const HAND_CASCADE: CascadeRule = { kind: "cascade", startRung: 0, escalateOn: "visible-failure", budgetShare: null };

/** A rule's short name for tables, e.g. cascade(0,visible) or cascade(1,any,<=25%). */
export function ruleName(rule: CascadeRule): string {
  const trigger = rule.escalateOn === "visible-failure" ? "visible" : "any";
  const budget = rule.budgetShare === null ? "" : `,<=${Math.round(100 * rule.budgetShare)}%`;
  return `cascade(${rule.startRung},${trigger}${budget})`;
}

/** Whether a rung's end shows a failure the rule climbs on. */
export function ruleSeesFailure(rule: CascadeRule, state: EpisodeState): boolean {
  const visibleFailure = state.visibleTestsRun && (state.visiblePassFraction < 1 || state.codeRaises);
  if (rule.escalateOn === "visible-failure") return visibleFailure;
  return visibleFailure || !state.visibleTestsRun || state.review === "rejected";
}

/** Whether the rule's budget allows the next rung. */
export function ruleCanAfford(rule: CascadeRule, state: EpisodeState): boolean {
  const costs = state.ladderCosts;
  if (rule.budgetShare === null || !costs) return true;
  const dearest = Math.max(...costs.perRung, 0);
  if (dearest <= 0) return true;
  const spent = costs.unit === "usd" ? state.costUsd : state.tokens;
  return spent + (costs.perRung[state.rung + 1] ?? 0) <= rule.budgetShare * dearest;
}

/** The rule's action on one observation. */
export function ruleAction(rule: CascadeRule, observation: Observation): Action {
  const allowed = observation.allowed;
  if (allowed.kind === "mode") return { kind: "mode", mode: allowed.modes[Math.min(rule.startRung, allowed.modes.length - 1)]! };
  // The rung's own script runs to its end; then the rule decides.
  if (allowed.pipelineAgent && allowed.agents.includes(allowed.pipelineAgent)) return { kind: "agent", agent: allowed.pipelineAgent };
  const state = observation.episode;
  const climb = allowed.agents.includes("Escalate") && ruleSeesFailure(rule, state) && ruleCanAfford(rule, state);
  return { kind: "agent", agent: climb ? "Escalate" : "Stop" };
}

/** A cascade rule behind the Router interface, so a policy file may hold it. */
export class RulePolicy implements Router {
  readonly kind = "rule" as const;
  escalationThreshold: number | undefined = undefined;

  constructor(readonly rule: CascadeRule) {}

  decide(observations: readonly Observation[], _options: DecisionOptions = {}): Decision[] {
    return observations.map((observation) => ruleDecision(ruleAction(this.rule, observation)));
  }

  chooseMode(task: PublicTask, options: DecisionOptions & { allowedModes?: readonly Mode[] } = {}): Mode {
    return chooseModeOf(this, task, options);
  }

  chooseNextAgent(task: PublicTask, state: EpisodeState, options: DecisionOptions & { allowedAgents?: readonly AgentChoice[] } = {}): AgentChoice {
    return chooseNextAgentOf(this, task, state, options);
  }

  dispose(): void {}
}

/** A rule's decision in the shape a network's has: certain of its action, nothing to learn from. */
function ruleDecision(action: Action): Decision {
  const isMode = action.kind === "mode";
  const outputs: readonly string[] = isMode ? MODES : AGENT_CHOICES;
  const index = outputs.indexOf(isMode ? action.mode : action.agent);
  const probabilities = new Float64Array(outputs.length);
  probabilities[index] = 1;
  return { action, head: isMode ? "mode" : "agent", actionIndex: index, probabilities, logProbability: 0, value: 0, features: new Float32Array(0), mask: outputs.map((_, i) => i === index) };
}
