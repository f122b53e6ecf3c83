import type { Agent, Mode } from "./modes-and-agents.js";

/**
 * THE mode spec: what fast, standard and deep mean, per product, in one declarative table.
 * The episode engine (src/orchestrator/engine/team-episode.ts, for both products)
 * runs these scripts, the policy's allowed actions and step budgets (actions.ts) come from here,
 * the synthetic simulator (training/synthetic-environment.ts) plays the same scripts, and the
 * model each agent calls by default is read from `models`. Nothing else spells a mode out.
 *
 * It lives in policy/ because it is the lowest layer all four readers may import (it imports
 * nothing but types).
 */
export const PRODUCTS = ["humaneval", "repository"] as const;
/** HumanEval-style function tasks, or issues on a repository (`koderz solve`). */
export type Product = (typeof PRODUCTS)[number];

/** One entry of a mode's script; entries run in order, each at most as its conditions allow. */
export interface ScriptStep {
  agent: Agent;
  /**
   * "failing": runs only while the best candidate fails its checks (docstring examples and the
   * Tester's tests; a repository's test run). "rejected": runs only after the Reviewer rejected
   * the candidate, guided by the review. Unset: always.
   */
  when?: "failing" | "rejected";
  /** Repeats while `when` holds, at most the debug-round setting plus `extraRounds` times. */
  rounds?: { extraRounds: number };
  /**
   * Coder only. "drafts": the trajectories setting's drafts sampled in parallel, the best kept
   * (one step of the script and of the policy, K model calls). "hybrid": one draft merging the
   * best two drafts so far (only when there are two).
   */
  coder?: "drafts" | "hybrid";
  /** Runs only when the task names no failing test (a repository Tester writes the reproduction). */
  unlessFailingTestNamed?: true;
}

/** Which model an agent calls by default: the local model under test, or the frontier model. */
export type ModelTier = "local" | "frontier";

export interface ModeSpec {
  /** What the mode's fixed pipeline runs. */
  script: readonly ScriptStep[];
  /** Agents the meta-controller may pick in this mode (Stop is always allowed). */
  allowedAgents: readonly Agent[];
  /** A policy episode ends after this many agent steps; at least the script's longest run. */
  maxAgentSteps: number;
  /** Tokens one model call may answer with. */
  answerTokens: number;
  /** The model each agent calls unless --model-for says otherwise. */
  models: Readonly<Record<Agent, ModelTier>>;
}

/** Settings the scripts refer to, with their defaults (the CLI may override both). */
export const SCRIPT_DEFAULTS = { debugRounds: 2, trajectories: 4 } as const;
export interface ScriptSettings {
  debugRounds: number;
  trajectories: number;
}

const ALL_AGENTS: readonly Agent[] = ["Planner", "Coder", "Tester", "Debugger", "Reviewer"];
/** The frontier model plans and reviews; the local model writes, tests and fixes. */
const MODELS: Record<Agent, ModelTier> = { Planner: "frontier", Coder: "local", Tester: "local", Debugger: "local", Reviewer: "frontier" };

const debugRounds = (extraRounds = 0): ScriptStep => ({ agent: "Debugger", when: "failing", rounds: { extraRounds } });
const reviewThenGuidedFix: ScriptStep[] = [{ agent: "Reviewer" }, { agent: "Debugger", when: "rejected" }];

export const MODE_SPECS: Readonly<Record<Product, Readonly<Record<Mode, ModeSpec>>>> = {
  humaneval: {
    // One Coder call checked against the docstring's examples (also the zero-shot protocol).
    fast: { script: [{ agent: "Coder" }], allowedAgents: ["Coder", "Debugger"], maxAgentSteps: 2, answerTokens: 2048, models: MODELS },
    // The Tester works from the specification before any code exists, so its tests cannot be bent to fit a candidate.
    standard: {
      script: [{ agent: "Planner" }, { agent: "Tester" }, { agent: "Coder" }, debugRounds()],
      allowedAgents: ["Planner", "Coder", "Tester", "Debugger"],
      maxAgentSteps: 5,
      answerTokens: 2048,
      models: MODELS,
    },
    deep: {
      script: [
        { agent: "Planner" },
        { agent: "Tester" },
        { agent: "Coder", coder: "drafts" },
        debugRounds(),
        { agent: "Coder", coder: "hybrid", when: "failing" },
        ...reviewThenGuidedFix,
      ],
      allowedAgents: ALL_AGENTS,
      maxAgentSteps: 8,
      answerTokens: 2048,
      models: MODELS,
    },
  },
  repository: {
    // The Coder reads, edits and runs the tests itself. No parallel drafts: each would need its own container.
    fast: { script: [{ agent: "Coder" }], allowedAgents: ["Coder", "Debugger"], maxAgentSteps: 2, answerTokens: 4096, models: MODELS },
    standard: {
      script: [{ agent: "Planner" }, { agent: "Tester", unlessFailingTestNamed: true }, { agent: "Coder" }, debugRounds()],
      allowedAgents: ["Planner", "Coder", "Tester", "Debugger"],
      maxAgentSteps: 5,
      answerTokens: 4096,
      models: MODELS,
    },
    deep: {
      script: [{ agent: "Planner" }, { agent: "Tester", unlessFailingTestNamed: true }, { agent: "Coder" }, debugRounds(1), ...reviewThenGuidedFix],
      allowedAgents: ALL_AGENTS,
      maxAgentSteps: 8,
      answerTokens: 4096,
      models: MODELS,
    },
  },
};

/** What the script's conditions read at a decision point. */
export interface ScriptEvidence {
  /** The best candidate fails its checks (false before any code: nothing to fix yet). */
  failing: boolean;
  /** The Reviewer's last verdict was a rejection. */
  rejected: boolean;
  /** The task names a failing test (repository issues). */
  failingTestNamed?: boolean;
  /** How many drafts the episode has, for the hybrid step (it needs two). */
  drafts: number;
}

/**
 * The agent a mode's script runs next, given the agents already run (in script order, as
 * policy steps: a drafts step is one entry) and the evidence now, or "Stop" when the script is
 * over. Steps whose agent does not come next in `ran` were skipped by their condition.
 * The simulator's always-<mode> baselines follow this; the pipelines run the same script.
 */
export function nextScriptedAgent(script: readonly ScriptStep[], ran: readonly Agent[], evidence: ScriptEvidence, settings: Pick<ScriptSettings, "debugRounds">): Agent | "Stop" {
  let position = 0;
  for (const step of script) {
    const limit = step.rounds ? settings.debugRounds + step.rounds.extraRounds : 1;
    let runs = 0;
    while (runs < limit && position < ran.length && ran[position] === step.agent) {
      position++;
      runs++;
    }
    if (position < ran.length) continue;
    if (runs < limit && scriptStepApplies(step, evidence)) return step.agent;
  }
  return "Stop";
}

/** Whether a script step's conditions hold on this evidence. */
export function scriptStepApplies(step: ScriptStep, evidence: ScriptEvidence): boolean {
  if (step.unlessFailingTestNamed && evidence.failingTestNamed) return false;
  if (step.coder === "hybrid" && evidence.drafts < 2) return false;
  if (step.when === "failing") return evidence.failing;
  if (step.when === "rejected") return evidence.rejected;
  return true;
}

/** The agents a mode's script can call, in script order without repeats. */
export function scriptAgents(spec: ModeSpec): Agent[] {
  return [...new Set(spec.script.map((step) => step.agent))];
}

/** How many model calls a drafts step makes: the policy sees one Coder step, a trajectory K Coder calls. */
export function draftsPerCoderStep(spec: ModeSpec, settings: Pick<ScriptSettings, "trajectories">): number {
  return spec.script.some((step) => step.coder === "drafts") ? settings.trajectories : 1;
}
