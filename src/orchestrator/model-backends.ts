import type { Agent } from "../../agents/agent.js";
import { createBackend, preflightAll, type ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import type { PipelineMode } from "./pipeline.js";
import { modelsUsedBy, agentModels, type ModelChoice } from "./agent-models.js";

/**
 * One backend per distinct model (so a model's concurrency limit holds across agents). The
 * models that the given modes call are checked once each, so a model that does not answer
 * stops a command before it writes or spends anything. `extraModels` (a ladder's rungs) are
 * connected and checked too.
 */
export async function connectModels(
  choice: ModelChoice,
  options: { modelConfig?: ModelConfig; preflightModes: readonly PipelineMode[]; extraModels?: readonly string[] },
): Promise<Map<string, ModelBackend>> {
  const backends = new Map<string, ModelBackend>();
  const extra = options.extraModels ?? [];
  for (const model of new Set([...Object.values(agentModels(choice)), ...extra])) {
    backends.set(model, createBackend(model, { config: options.modelConfig }));
  }
  const checked = [...new Set([...modelsUsedBy(choice, options.preflightModes), ...extra])];
  await preflightAll(checked.map((model) => [model, backends.get(model)!] as const));
  return backends;
}

/**
 * A rubric's judge questions go to the Reviewer's model (the frontier seat): checked here, once
 * the tasks are known, when the run's own modes do not call that model (a fast run), so a judge
 * that does not answer stops the run before its first experiment rather than after it.
 */
export async function preflightJudge(choice: ModelChoice, backends: ReadonlyMap<string, ModelBackend>, modes: readonly PipelineMode[]): Promise<void> {
  const judge = agentModels(choice).Reviewer;
  if (!modelsUsedBy(choice, modes).includes(judge)) await preflightAll([[judge, backends.get(judge)!]]);
}

/** Each agent's backend, wrapped by `wrap` (e.g. to log its calls). */
export function backendsByAgent(
  choice: ModelChoice,
  backends: ReadonlyMap<string, ModelBackend>,
  wrap: (backend: ModelBackend) => ModelBackend = (backend) => backend,
): Record<Agent, ModelBackend> {
  return Object.fromEntries(Object.entries(agentModels(choice)).map(([agent, model]) => [agent, wrap(backends.get(model)!)])) as Record<Agent, ModelBackend>;
}
