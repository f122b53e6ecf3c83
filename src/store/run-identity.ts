import { KoderzError } from "../errors.js";
import type { Store } from "./engine.js";
import type { RunRecord } from "./records.js";

/**
 * How a person tells runs apart: by label, else by "model · mode · suite", always with the id
 * beside it; and which figures of a run are known at all (an import without cost fields has
 * costs nobody logged, which are unknown, not free).
 */

/** What the run says it did not log: set by `koderz evaluate --save-run` on imports without those fields. */
export interface KnownFigures {
  cost: boolean;
  tokens: boolean;
}

export const COST_UNKNOWN_TAG = "cost:unknown";
export const TOKENS_UNKNOWN_TAG = "tokens:unknown";

export function knownFigures(run: Pick<RunRecord, "tags">): KnownFigures {
  return { cost: !run.tags.includes(COST_UNKNOWN_TAG), tokens: !run.tags.includes(TOKENS_UNKNOWN_TAG) };
}

/**
 * The models a run called: its `model:` tags, which the store adds from each recorded step's
 * model (and an import's user gives). A model only named in the config is not one it called.
 */
export function calledModels(run: Pick<RunRecord, "tags">): string[] {
  return run.tags.filter((tag) => tag.startsWith("model:")).map((tag) => tag.slice("model:".length));
}

/** The run's suite or dataset, as its config or its experiments name it. */
export function runSuite(run: Pick<RunRecord, "config">): string | null {
  const suite = run.config.suite;
  return typeof suite === "string" && suite ? suite : null;
}

/** The models to name a run by: the ones it called, else the one it was configured to test. */
function namingModels(run: Pick<RunRecord, "tags" | "config">): string[] {
  const called = calledModels(run);
  if (called.length) return called;
  const configured = run.config.localModel ?? run.config.local_model;
  return typeof configured === "string" && configured ? [configured] : [];
}

/** The label, or a short "model · mode · suite" when the run has none. */
export function runName(run: Pick<RunRecord, "label" | "tags" | "config" | "mode">): string {
  if (run.label) return run.label;
  const models = namingModels(run);
  return [models.length ? models.join("+") : "no model", run.mode, runSuite(run) ?? undefined].filter(Boolean).join(" · ");
}

/** "name (id)": how tables, legends and headers name a run. */
export function runTitle(run: Pick<RunRecord, "runId" | "label" | "tags" | "config" | "mode">): string {
  return `${runName(run)} (${run.runId})`;
}

/**
 * A run by its id or its label, as every command that takes a run accepts it. An id wins; a
 * label several runs carry is an error that lists them, so the user can pick one by id.
 */
export function resolveRun(store: Store, reference: string): RunRecord {
  const byId = store.findRun(reference);
  if (byId) return byId;
  const labelled = store.listRuns({ label: reference });
  if (labelled.length === 1) return labelled[0]!;
  if (labelled.length > 1) {
    const candidates = labelled.map((run) => `${run.runId} (${run.mode}, started ${run.startTime.slice(0, 16).replace("T", " ")})`);
    throw new KoderzError("usage", `${labelled.length} runs carry the label ${reference}: ${candidates.join(", ")}`, "name the one you mean by its run id");
  }
  return store.getRun(reference);
}
