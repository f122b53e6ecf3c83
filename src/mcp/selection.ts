import { KoderzError } from "../errors.js";
import { resolveRun, type ExperimentRecord, type RunRecord, type Store } from "../store/index.js";
import { experimentMemoryTags, runMemoryTags } from "./cortex-memories.js";

/**
 * Which runs and experiments a tool's filters select, composed from the store's own queries.
 * Tags match as the store matches them, or as one of the seed's Cortex tags, so prompts
 * written for the original koderz find the same records.
 */

export interface RunQuery {
  tags?: string[] | undefined;
  model?: string | undefined;
  mode?: string | undefined;
  kind?: RunRecord["kind"] | undefined;
  stage?: string | undefined;
  problemId?: string | undefined;
  since?: string | undefined;
}

export function selectRuns(store: Store, query: RunQuery): RunRecord[] {
  let runs = store.listRuns({ model: query.model, mode: query.mode, kind: query.kind, stage: query.stage, problem: query.problemId });
  // A tag matches as `koderz results list --tags` matches it, or as one of the run's Cortex tags.
  for (const tag of query.tags ?? []) {
    const matched = new Set(store.listRuns({ tags: [tag] }).map((run) => run.runId));
    runs = runs.filter((run) => matched.has(run.runId) || runMemoryTags(run).includes(tag));
  }
  if (query.since !== undefined) {
    const since = Date.parse(query.since);
    runs = runs.filter((run) => Date.parse(run.startTime) >= since);
  }
  return runs;
}

export interface ExperimentQuery {
  /** A run id or label. */
  runId?: string | undefined;
  tags?: string[] | undefined;
  problemId?: string | undefined;
  success?: boolean | undefined;
  arm?: string | undefined;
}

export function selectExperiments(store: Store, query: ExperimentQuery): ExperimentRecord[] {
  const tags = query.tags ?? [];
  const runs = query.runId !== undefined ? [resolveRun(store, query.runId)] : store.listRuns({ problem: query.problemId });
  // A run id among the tags (a Cortex experiment tag) narrows the runs to read.
  const runIdTags = tags.filter((tag) => runs.some((run) => run.runId === tag));
  const selected: ExperimentRecord[] = [];
  for (const run of runs) {
    if (runIdTags.some((tag) => tag !== run.runId)) continue;
    for (const experiment of store.experiments(run.runId, { arm: query.arm, problem: query.problemId })) {
      if (query.success !== undefined && experiment.success !== query.success) continue;
      if (tags.every((tag) => storeTagMatches(tag, experiment.tags) || experimentMemoryTags(experiment).includes(tag))) selected.push(experiment);
    }
  }
  return selected;
}

/** The store's rule for run tags, applied to an experiment's: a bare tag also matches key:tag. */
function storeTagMatches(tag: string, tags: readonly string[]): boolean {
  return tags.some((t) => t === tag || (!tag.includes(":") && t.endsWith(`:${tag}`)));
}

export function getExperiment(store: Store, experimentId: string): ExperimentRecord {
  const experiment = store.getExperiment(experimentId);
  if (!experiment) {
    throw new KoderzError("not_found", `no experiment with id ${experimentId}`, "query_experiments (or get_run) lists the experiment ids of a run");
  }
  return experiment;
}
