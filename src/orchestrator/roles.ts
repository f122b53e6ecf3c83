import { AGENTS, type Agent } from "../../agents/agent.js";
import type { Mode } from "../../policy/actions.js";
import { MODE_SPECS, scriptAgents } from "../../policy/mode-spec.js";
import { KoderzError } from "../errors.js";
import type { PipelineMode } from "./pipeline.js";

export interface ModelChoice {
  /** The model under test: Coder, Tester and Debugger by default (e.g. ollama:qwen3-coder:30b). */
  localModel: string;
  /** The stronger model: Planner and Reviewer by default (e.g. kimi-k2). */
  frontierModel: string;
  /** --model-for ROLE=MODEL overrides. */
  roleOverrides: Partial<Record<Agent, string>>;
}

/** Which roles a mode calls: only their models need to answer before a run starts. fast, standard and deep call their scripts' agents. */
const ROLES_BY_MODE: Record<PipelineMode, readonly Agent[]> = {
  "zero-shot": scriptAgents(MODE_SPECS.humaneval.fast),
  fast: scriptAgents(MODE_SPECS.humaneval.fast),
  iterative: ["Planner", "Coder", "Debugger", "Reviewer"],
  standard: scriptAgents(MODE_SPECS.humaneval.standard),
  deep: scriptAgents(MODE_SPECS.humaneval.deep),
};

/** The role's model: a --model-for override, else the mode spec's tier for the role (deep's, which names every role, by default). */
export function modelForRole(choice: ModelChoice, role: Agent, mode: Mode = "deep"): string {
  return choice.roleOverrides[role] ?? (MODE_SPECS.humaneval[mode].models[role] === "frontier" ? choice.frontierModel : choice.localModel);
}

export function roleModels(choice: ModelChoice): Record<Agent, string> {
  return Object.fromEntries(AGENTS.map((role) => [role, modelForRole(choice, role)])) as Record<Agent, string>;
}

/** The distinct models the given modes will call, for one preflight each. */
export function modelsUsedBy(choice: ModelChoice, modes: readonly PipelineMode[]): string[] {
  return [...new Set(modes.flatMap((mode) => ROLES_BY_MODE[mode].map((role) => modelForRole(choice, role))))];
}

/** Parses repeated `--model-for ROLE=MODEL` values; roles are matched case-insensitively. */
export function parseRoleOverrides(values: readonly string[]): Partial<Record<Agent, string>> {
  const overrides: Partial<Record<Agent, string>> = {};
  for (const value of values) {
    const [rawRole, ...rest] = value.split("=");
    const model = rest.join("=").trim();
    const role = AGENTS.find((r) => r.toLowerCase() === rawRole?.trim().toLowerCase());
    if (!role || !model) {
      throw new KoderzError(
        "usage",
        `--model-for "${value}" is not ROLE=MODEL`,
        `use one of ${AGENTS.join(", ")}, e.g. --model-for Reviewer=kimi-k2`,
      );
    }
    overrides[role] = model;
  }
  return overrides;
}
