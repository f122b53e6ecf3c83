import { AGENT_ROLES, type AgentRole } from "../../agents/agent.js";
import { KoderzError } from "../errors.js";
import type { PipelineMode } from "./pipeline.js";

export interface ModelChoice {
  /** The model under test: Coder, Tester and Debugger by default (e.g. ollama:qwen3-coder:30b). */
  localModel: string;
  /** The stronger model: Planner and Reviewer by default (e.g. kimi-k2). */
  frontierModel: string;
  /** --model-for ROLE=MODEL overrides. */
  roleOverrides: Partial<Record<AgentRole, string>>;
}

const FRONTIER_ROLES: ReadonlySet<AgentRole> = new Set(["Planner", "Reviewer"]);

/** Which roles a mode calls: only their models need to answer before a run starts. */
const ROLES_BY_MODE: Record<PipelineMode, readonly AgentRole[]> = {
  "zero-shot": ["Coder"],
  fast: ["Coder"],
  iterative: ["Planner", "Coder", "Debugger", "Reviewer"],
  standard: ["Planner", "Coder", "Tester", "Debugger"],
  deep: AGENT_ROLES,
};

export function modelForRole(choice: ModelChoice, role: AgentRole): string {
  return choice.roleOverrides[role] ?? (FRONTIER_ROLES.has(role) ? choice.frontierModel : choice.localModel);
}

export function roleModels(choice: ModelChoice): Record<AgentRole, string> {
  return Object.fromEntries(AGENT_ROLES.map((role) => [role, modelForRole(choice, role)])) as Record<AgentRole, string>;
}

/** The distinct models the given modes will call, for one preflight each. */
export function modelsUsedBy(choice: ModelChoice, modes: readonly PipelineMode[]): string[] {
  return [...new Set(modes.flatMap((mode) => ROLES_BY_MODE[mode].map((role) => modelForRole(choice, role))))];
}

/** Parses repeated `--model-for ROLE=MODEL` values; roles are matched case-insensitively. */
export function parseRoleOverrides(values: readonly string[]): Partial<Record<AgentRole, string>> {
  const overrides: Partial<Record<AgentRole, string>> = {};
  for (const value of values) {
    const [rawRole, ...rest] = value.split("=");
    const model = rest.join("=").trim();
    const role = AGENT_ROLES.find((r) => r.toLowerCase() === rawRole?.trim().toLowerCase());
    if (!role || !model) {
      throw new KoderzError(
        "usage",
        `--model-for "${value}" is not ROLE=MODEL`,
        `use one of ${AGENT_ROLES.join(", ")}, e.g. --model-for Reviewer=kimi-k2`,
      );
    }
    overrides[role] = model;
  }
  return overrides;
}
