import { z } from "zod";
import { MODEL_ID_FORMS } from "../llm/index.js";
import {
  exportRow,
  runListing,
  type ExperimentExportRow,
  type ExperimentRecord,
  type RunListing,
  type RunRecord,
  type Store,
} from "../store/index.js";

/**
 * The original koderz kept every benchmark summary and experiment as a memory in the Cortex
 * MCP server, found by tags. Assistants' prompts still ask by those tags, so runs and
 * experiments are offered as memories tagged exactly as the seed tagged them:
 *   a run:        ["benchmark_run", run_id, mode, local_model]
 *   an experiment: ["result", experiment_id, problem_id, "completed", run_id]
 * (every experiment in the store is completed: only whole experiments are committed).
 * The seed's local_model was the name its user knew ("qwen2.5-coder:32b"); koderz's id names
 * the provider too ("ollama:qwen2.5-coder:32b"), so a run carries both, and the seed's query
 * ["benchmark_run", "qwen2.5-coder:32b"] finds it as written.
 */

export const RUN_MEMORY_TAG = "benchmark_run";
export const EXPERIMENT_MEMORY_TAG = "result";
const COMPLETED_TAG = "completed";

export interface Memory {
  /** The MCP resource that holds the whole record. */
  uri: string;
  content: string;
  tags: string[];
  category: string | null;
  importance: number | null;
  metadata: RunListing | ExperimentExportRow;
}

export function runResourceUri(runId: string): string {
  return `koderz://runs/${runId}`;
}

export function experimentResourceUri(runId: string, experimentId: string): string {
  return `koderz://runs/${runId}/experiments/${experimentId}`;
}

export function runMemoryTags(run: RunRecord): string[] {
  const localModel = localModelOf(run);
  return [RUN_MEMORY_TAG, run.runId, run.mode, ...(localModel ? modelTags(localModel) : [])];
}

/** koderz's providers, the prefixes of its model ids ("ollama", "openrouter", "llama", ...). */
const PROVIDER_PREFIXES = [...new Set(MODEL_ID_FORMS.filter((form) => form.includes(":")).map((form) => form.slice(0, form.indexOf(":"))))];

/**
 * A model's id and the name its user knows: the part after the provider prefix, without the
 * base URL of an openai-compatible id; a llama: model's file name. An id with no provider
 * prefix (a preset like kimi-k2, a config file's name) is its own name.
 */
export function modelTags(modelId: string): string[] {
  const colon = modelId.indexOf(":");
  const provider = colon > 0 ? modelId.slice(0, colon) : "";
  if (!PROVIDER_PREFIXES.includes(provider)) return [modelId];
  let name = modelId.slice(colon + 1);
  if (provider === "openai-compatible" && name.includes("@")) name = name.slice(0, name.lastIndexOf("@"));
  if (provider === "llama") name = name.slice(name.lastIndexOf("/") + 1);
  return name && name !== modelId ? [modelId, name] : [modelId];
}

export function experimentMemoryTags(experiment: ExperimentRecord): string[] {
  return [EXPERIMENT_MEMORY_TAG, experiment.experimentId, experiment.problemId, COMPLETED_TAG, experiment.runId];
}

/**
 * Memories carrying every one of `tags` (none: all), oldest run first, each run followed by
 * its experiments. A run's experiments are only read when the tags could match one of them.
 */
export function findMemories(store: Store, tags: readonly string[]): Memory[] {
  const runs = store.listRuns();
  const runIds = new Set(runs.map((run) => run.runId));
  const memories: Memory[] = [];
  for (const run of runs) {
    if (hasEvery(runMemoryTags(run), tags)) memories.push(runMemory(store, run));
    const excludesExperiments = tags.some((tag) => tag === RUN_MEMORY_TAG || (runIds.has(tag) && tag !== run.runId));
    if (excludesExperiments) continue;
    for (const experiment of store.experiments(run.runId)) {
      if (hasEvery(experimentMemoryTags(experiment), tags)) memories.push(experimentMemory(experiment));
    }
  }
  return memories;
}

function runMemory(store: Store, run: RunRecord): Memory {
  const listing = runListing(run, store.armTotals(run.runId));
  const localModel = localModelOf(run);
  const arms = listing.arms.map(
    (a) =>
      `${a.arm}: ${a.successes}/${a.experiments} solved (${a.successRate === null ? "-" : (100 * a.successRate).toFixed(1)}%), ` +
      `${a.costUsd === null ? "cost unknown" : `$${a.costUsd.toFixed(4)}`}, ${a.inputTokens === null ? "tokens unknown" : `${a.inputTokens}/${a.outputTokens} tokens in/out`}`,
  );
  const content =
    `Benchmark run ${run.runId} (${run.kind}, mode ${run.mode}${localModel ? `, local model ${localModel}` : ""}, ${run.status}, started ${run.startTime})` +
    (arms.length ? `. ${arms.join("; ")}.` : ". No experiments yet.");
  return { uri: runResourceUri(run.runId), content, tags: runMemoryTags(run), category: run.category ?? null, importance: run.importance ?? null, metadata: listing };
}

function experimentMemory(experiment: ExperimentRecord): Memory {
  const e = experiment;
  const outcome = e.success ? "solved" : "not solved";
  const content =
    `${e.problemId} in run ${e.runId} (arm ${e.arm}): ${outcome} after ${e.iterations} iteration${e.iterations === 1 ? "" : "s"}, ` +
    `$${e.costUsd.toFixed(4)}, ${e.inputTokens}/${e.outputTokens} tokens in/out, ${e.wallSeconds.toFixed(1)} s` +
    (e.verdict ? `. Verdict: ${e.verdict.split("\n")[0]}` : "");
  return {
    uri: experimentResourceUri(e.runId, e.experimentId),
    content,
    tags: experimentMemoryTags(e),
    category: e.category ?? null,
    importance: e.importance ?? null,
    metadata: exportRow(e),
  };
}

const LocalModel = z.string().min(1).optional().catch(undefined);

/** The seed's local_model tag: the config's local model, in either spelling the store accepts. */
function localModelOf(run: RunRecord): string | undefined {
  return LocalModel.parse(run.config.localModel ?? run.config.local_model);
}

function hasEvery(tags: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((tag) => tags.includes(tag));
}
