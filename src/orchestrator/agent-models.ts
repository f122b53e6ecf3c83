import { AGENTS, type Agent } from "../../agents/agent.js";
import type { Mode } from "../../policy/actions.js";
import { MODE_SPECS } from "../../policy/mode-spec.js";
import { MODE_VOCABULARY } from "../../policy/mode-vocabulary.js";
import { KoderzError } from "../errors.js";
import type { PipelineMode } from "./pipeline.js";

/** Which model each agent calls. */
export interface ModelChoice {
  /** The model under test: Coder, Tester and Debugger by default (e.g. ollama:qwen3-coder:30b). */
  localModel: string;
  /** The stronger model: Planner and Reviewer by default (e.g. kimi-k2). */
  frontierModel: string;
  /** --model-for AGENT=MODEL: a model for one agent, over the defaults above. */
  modelFor: Partial<Record<Agent, string>>;
}


/** The agent's model: a --model-for choice, else the mode spec's tier for the agent (deep's, which names every agent, by default). */
export function modelForAgent(choice: ModelChoice, agent: Agent, mode: Mode = "deep"): string {
  return choice.modelFor[agent] ?? (MODE_SPECS.humaneval[mode].models[agent] === "frontier" ? choice.frontierModel : choice.localModel);
}

export function agentModels(choice: ModelChoice): Record<Agent, string> {
  return Object.fromEntries(AGENTS.map((agent) => [agent, modelForAgent(choice, agent)])) as Record<Agent, string>;
}

/** The distinct models the given modes will call, for one preflight each. */
export function modelsUsedBy(choice: ModelChoice, modes: readonly PipelineMode[]): string[] {
  return [...new Set(modes.flatMap((mode) => MODE_VOCABULARY[mode].agents.map((agent) => modelForAgent(choice, agent))))];
}

/** Parses repeated `--model-for AGENT=MODEL` values; agents are matched case-insensitively. */
export function parseModelFor(values: readonly string[]): Partial<Record<Agent, string>> {
  const modelFor: Partial<Record<Agent, string>> = {};
  for (const value of values) {
    const [rawAgent, ...rest] = value.split("=");
    const model = rest.join("=").trim();
    const agent = AGENTS.find((a) => a.toLowerCase() === rawAgent?.trim().toLowerCase());
    if (!agent || !model) {
      throw new KoderzError("usage", `--model-for "${value}" is not AGENT=MODEL`, `use one of ${AGENTS.join(", ")}, e.g. --model-for Reviewer=kimi-k2`);
    }
    modelFor[agent] = model;
  }
  return modelFor;
}
