import type { Mode } from "../policy/actions.js";
import type { LadderCosts } from "../policy/features.js";
import { MetaPolicy } from "../policy/meta-policy.js";
import { deriveSeed } from "../policy/prng.js";
import type { Router } from "../policy/router.js";
import { HAND_CASCADE, RulePolicy, ruleName, type CascadeRule } from "../policy/rule-policy.js";
import type { EpisodeOutcome } from "./environment.js";
import { playControllers } from "./compare-controllers.js";
import { fixedModeController, policyController, type Controller } from "./controllers.js";
import { createReplayEnvironments } from "./replay-environment.js";
import { shuffledByTask, type ReplayLog } from "./replay-log.js";
import { costUnitOf, type RewardConfig } from "./rewards.js";
import { trainMetaPolicy, type PpoSettings } from "./train.js";

/**
 * Out-of-sample model selection (RouteLLM's "a router is chosen, not assumed"): the learned
 * policy competes with the rules a user could write, on the training tasks only.
 *
 * The training tasks are cut into FOLDS parts by task. For each fold a policy trains on the
 * others; then, on the fold's tasks (which it never saw), the dearest arm, that policy at every
 * escalation threshold of the grid, and every rule play. Pooled over the folds, every candidate
 * has one out-of-sample episode per training task.
 *
 * - The learned candidate is the ensemble of the fold policies (the mean of their
 *   distributions), at the highest threshold whose success keeps the floor at the LOWER end of
 *   a one-sided 95 % interval (paired per task against the dearest arm), not at the mean; with
 *   no threshold doing so, the lowest (most escalations).
 * - With a success floor, the chosen controller is the cheapest candidate whose floor holds at
 *   that lower bound; with none holding, the most successful (then the cheapest). Without a
 *   floor, the highest mean return. Ties go to the rule: it is the simpler controller.
 * The held-out tasks are never looked at.
 */
export const FOLDS = 4;
/** Escalate's probabilities worth telling apart (a policy trained on dollars is often very sure); 1: escalate only when certain. */
export const THRESHOLD_GRID = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1] as const;
/** The cost budgets of the budgeted rules, as shares of the dearest rung's mean cost. */
export const RULE_BUDGETS = [0.25, 0.5] as const;
/** One-sided 95 %: the floor must hold at mean − Z · standard error. */
const Z_ONE_SIDED_95 = 1.645;

/** Every rule of the families a user could write, on a ladder of `rungs` rungs: a cascade from each starting rung, escalating on a visible failure, on any failure, and within each budget. */
export function ruleCandidates(rungs: number): CascadeRule[] {
  const rules: CascadeRule[] = [];
  for (let startRung = 0; startRung < rungs; startRung++) {
    // From the dearest rung there is nowhere to climb: one rule (the fixed dearest arm).
    if (startRung === rungs - 1) {
      rules.push({ kind: "cascade", startRung, escalateOn: "visible-failure", budgetShare: null });
      continue;
    }
    for (const escalateOn of ["visible-failure", "any-failure"] as const) {
      for (const budgetShare of [null, ...RULE_BUDGETS]) rules.push({ kind: "cascade", startRung, escalateOn, budgetShare });
    }
  }
  return rules;
}

/** A candidate's out-of-sample figures on the training tasks, as shares of the dearest arm's. */
export interface CandidateFigures {
  name: string;
  kind: "learned" | "rule";
  successShare: number;
  /** The success share at the lower end of the one-sided 95 % interval. */
  successShareLow: number;
  costShare: number;
  meanReturn: number;
  /** Whether the floor holds at the lower bound (always false without a floor). */
  floorHolds: boolean;
}

export interface RouterSelection {
  /** What was chosen: the learned ensemble or a rule. */
  chosen: { kind: "learned"; name: string } | { kind: "rule"; name: string; rule: CascadeRule };
  /** The learned ensemble at its chosen threshold (the caller disposes it, whatever was chosen). */
  learned: MetaPolicy;
  /** The threshold the learned candidate plays at; null: plain argmax (no floor). */
  threshold: number | null;
  /** Every candidate's out-of-sample figures, the learned one first. */
  candidates: CandidateFigures[];
  /** The learned policy at every threshold of the grid (out of sample), for the record. */
  thresholdCurve: CandidateFigures[];
  trainingTasks: number;
}

export interface SelectionOptions {
  training: ReplayLog;
  seed: number;
  /** Training episodes of each fold's policy. */
  episodes: number;
  rewards: RewardConfig;
  ladder: readonly Mode[];
  ladderCosts: LadderCosts;
  /** The arm the shares are of: the dearest one logged on every task. */
  dearest: Mode;
  successFloor?: number;
  settings?: Partial<PpoSettings>;
}

/** Per task, one outcome per controller, in controller order. */
type Outcomes = EpisodeOutcome[][];

export async function selectRouter(options: SelectionOptions): Promise<RouterSelection> {
  const { rewards, ladder, ladderCosts } = options;
  const rules = ruleCandidates(ladder.length);
  const thresholds: (number | null)[] = [null, ...THRESHOLD_GRID];
  // Controller order per fold: the dearest arm, the learned policy at each threshold, then each rule.
  const pooled: Outcomes = [];
  const policies: MetaPolicy[] = [];
  try {
    for (const [index, { fit, check }] of foldsByTask(options.training, options.seed).entries()) {
      const seed = deriveSeed(options.seed, "fold", index);
      const result = await trainMetaPolicy({
        episodes: options.episodes,
        seed,
        settings: options.settings,
        makeEnvironments: (count) => createReplayEnvironments(count, fit, seed, rewards, ladder, ladderCosts),
      });
      policies.push(result.policy);
      const controllers: Controller[] = [
        fixedModeController(options.dearest),
        ...thresholds.map((threshold) => policyController(result.policy, { escalationThreshold: threshold })),
        ...rules.map((rule) => routerController(new RulePolicy(rule), ruleName(rule))),
      ];
      const played = await playControllers(controllers, () => createReplayEnvironments(check.length, check, seed, rewards, ladder, ladderCosts), 1);
      played.byController.forEach(({ outcomes }, c) => {
        (pooled[c] ??= []).push(...outcomes);
      });
    }
  } catch (error) {
    for (const policy of policies) policy.dispose();
    throw error;
  }
  const reference = pooled[0]!;
  const cost = costUnitOf(rewards) === "usd" ? (o: EpisodeOutcome) => o.costUsd : (o: EpisodeOutcome) => o.tokens;
  const figures = (name: string, kind: "learned" | "rule", outcomes: readonly EpisodeOutcome[]): CandidateFigures =>
    candidateFigures(name, kind, outcomes, reference, cost, options.successFloor);
  const curve = thresholds.map((threshold, i) => figures(threshold === null ? "learned-greedy" : `learned@${threshold}`, "learned", pooled[1 + i]!));
  const threshold = options.successFloor === undefined ? null : chooseThreshold(thresholds, curve);
  const learnedFigures = { ...curve[thresholds.indexOf(threshold)]!, name: "learned" };
  const ruleFigures = rules.map((rule, i) => figures(ruleName(rule), "rule", pooled[1 + thresholds.length + i]!));
  const candidates = [learnedFigures, ...ruleFigures];
  const best = chooseCandidate(candidates, options.successFloor !== undefined);
  const learned = MetaPolicy.ensemble(policies);
  learned.escalationThreshold = threshold ?? undefined;
  const chosenRule = best.kind === "rule" ? rules[ruleFigures.indexOf(best)]! : null;
  return {
    chosen: chosenRule ? { kind: "rule", name: best.name, rule: chosenRule } : { kind: "learned", name: "learned" },
    learned,
    threshold,
    candidates,
    thresholdCurve: curve,
    trainingTasks: reference.length,
  };
}

/** A router (network or rule) as a controller of the comparison tables. */
export function routerController(router: Router, name: string): Controller {
  return { name, act: (observations) => router.decide(observations).map((decision) => decision.action) };
}

/** The router a selection ships: the learned ensemble, or a rule policy. */
export function chosenRouter(selection: RouterSelection): Router {
  return selection.chosen.kind === "rule" ? new RulePolicy(selection.chosen.rule) : selection.learned;
}

function candidateFigures(
  name: string,
  kind: "learned" | "rule",
  outcomes: readonly EpisodeOutcome[],
  reference: readonly EpisodeOutcome[],
  cost: (outcome: EpisodeOutcome) => number,
  successFloor: number | undefined,
): CandidateFigures {
  const n = outcomes.length;
  const referenceSuccess = sum(reference.map(solved));
  const referenceCost = sum(reference.map(cost));
  const successShare = referenceSuccess > 0 ? sum(outcomes.map(solved)) / referenceSuccess : 1;
  const costShare = referenceCost > 0 ? sum(outcomes.map(cost)) / referenceCost : 0;
  // Paired per task: d_i = solved_i − floor · solved_by_dearest_i; the floor holds at the lower bound when mean(d) − z·se ≥ 0.
  const floor = successFloor ?? 1;
  const differences = outcomes.map((o, i) => solved(o) - floor * solved(reference[i]!));
  const meanDifference = sum(differences) / Math.max(1, n);
  const variance = n > 1 ? sum(differences.map((d) => (d - meanDifference) ** 2)) / (n - 1) : 0;
  const lowDifference = meanDifference - Z_ONE_SIDED_95 * Math.sqrt(variance / Math.max(1, n));
  const referenceRate = referenceSuccess / Math.max(1, n);
  // Back to a share: (mean solved − z·se) / dearest's rate, where mean solved = mean d + floor · rate.
  const successShareLow = referenceRate > 0 ? (lowDifference + floor * referenceRate) / referenceRate : 1;
  return {
    name,
    kind,
    successShare,
    successShareLow,
    costShare,
    meanReturn: sum(outcomes.map((o) => o.return)) / Math.max(1, n),
    floorHolds: successFloor !== undefined && lowDifference >= 0,
  };
}

/** The highest threshold whose floor holds at the lower bound; with none, the lowest of the grid (most escalations). */
function chooseThreshold(thresholds: readonly (number | null)[], curve: readonly CandidateFigures[]): number | null {
  let chosen: number | null = null;
  thresholds.forEach((threshold, i) => {
    if (threshold !== null && curve[i]!.floorHolds) chosen = threshold;
  });
  return chosen ?? THRESHOLD_GRID[0];
}

function chooseCandidate(candidates: readonly CandidateFigures[], withFloor: boolean): CandidateFigures {
  // Rules first, so a tie goes to the rule.
  const ordered = [...candidates.filter((c) => c.kind === "rule"), ...candidates.filter((c) => c.kind === "learned")];
  const better = (a: CandidateFigures, b: CandidateFigures): boolean => {
    if (!withFloor) return a.meanReturn > b.meanReturn;
    if (a.floorHolds !== b.floorHolds) return a.floorHolds;
    if (a.floorHolds) return a.costShare < b.costShare;
    return a.successShare > b.successShare || (a.successShare === b.successShare && a.costShare < b.costShare);
  };
  return ordered.reduce((best, candidate) => (better(candidate, best) ? candidate : best));
}

/** The tasks cut into FOLDS parts (fewer with fewer tasks), each with the rest to train on. */
export function foldsByTask(log: ReplayLog, seed: number): { fit: ReplayLog; check: ReplayLog }[] {
  const ranked = shuffledByTask(log, seed, "folds");
  const count = Math.min(FOLDS, ranked.length);
  return Array.from({ length: count }, (_, fold) => ({
    fit: ranked.filter((_, i) => i % count !== fold),
    check: ranked.filter((_, i) => i % count === fold),
  }));
}

/** One line per seed: what its cross-validation chose, and the chosen and learned candidates' figures. */
export function describeSelection(seed: number, selection: Omit<RouterSelection, "learned">, successFloor: number | undefined): string {
  const pct = (value: number): string => `${(100 * value).toFixed(1)}%`;
  const learned = selection.candidates[0]!;
  const chosen = selection.candidates.find((c) => c.name === selection.chosen.name)!;
  const figures = (c: CandidateFigures): string => `${pct(c.successShare)} (low ${pct(c.successShareLow)}) of the dearest's success at ${pct(c.costShare)} of its cost`;
  const verdict =
    selection.chosen.kind === "rule"
      ? `the rule ${chosen.name} (${figures(chosen)}); the learned policy is worse out of sample (${figures(learned)}${successFloor !== undefined ? `, threshold ${selection.threshold}` : ""})`
      : `the learned policy (${figures(learned)}${successFloor !== undefined ? `, threshold ${selection.threshold}` : ""})`;
  return `seed ${seed}: ${FOLDS}-fold cross-validation on ${selection.trainingTasks} training tasks chose ${verdict}`;
}

export { HAND_CASCADE };

function solved(outcome: EpisodeOutcome): number {
  return outcome.success ? 1 : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
