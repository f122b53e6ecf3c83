import { KoderzError } from "../errors.js";
import type { RunRecord, StepRecord, Tag } from "./records.js";

/** Rules both engines apply the same way: the automatic run tags, which tags are allowed, the missing-run error. */

/**
 * kind: and mode: when a run is created. Its model: tags come from what it did (calledModelTags),
 * never from its config: a zero-shot run configured with a frontier model never calls it.
 */
export function automaticRunTags(run: RunRecord): Tag[] {
  return [`kind:${run.kind}`, `mode:${run.mode}`];
}

/** A run's model: tags for the models an experiment's steps called. */
export function calledModelTags(steps: readonly StepRecord[]): Tag[] {
  return [...new Set(steps.flatMap((step) => (step.model ? [`model:${step.model}`] : [])))];
}

export function checkTags(tags: readonly Tag[]): void {
  for (const tag of tags) {
    // Commas separate --tags on the command line and ";" separates tags in CSV exports.
    // eslint-disable-next-line no-control-regex -- U+001F (the unit separator) is refused on purpose
    if (!tag.trim() || tag !== tag.trim() || /[,;\u001f]/.test(tag)) {
      throw new KoderzError("bad_input", `tag ${JSON.stringify(tag)} is not allowed`, "use a word or key:value without spaces at either end, commas or semicolons");
    }
  }
}

export function runNotFound(runId: string): KoderzError {
  return new KoderzError("not_found", `no run with id ${runId}`, "`koderz results list` shows the runs in the store (a run is named by its id or its label)");
}

export function experimentNotFound(experimentId: string): KoderzError {
  return new KoderzError("not_found", `no experiment with id ${experimentId}`, "`koderz results show RUN --json` lists a run's experiments");
}
