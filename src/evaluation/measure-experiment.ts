import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { findDrafts, type DraftStep, type StoredMeasures } from "../store/index.js";
import { measureCode } from "./code-measures.js";
import { draftBehaviour } from "./draft-behaviour.js";

export interface MeasureInput {
  sandbox: Sandbox;
  task: Pick<Task, "prompt" | "entryPoint" | "visibleExamples">;
  /** The final code handed to the grader. */
  completion: string;
  /** The experiment's steps: deep mode's drafts are read from them. */
  steps: readonly DraftStep[];
  signal?: AbortSignal;
}

/**
 * What the sandbox measures of a finished experiment beyond its verdict: the final code's
 * quality and, when it wrote K drafts, how each behaves on generated inputs. A measure that
 * could not be taken is left out (or says why): it never changes nor fails the experiment.
 */
export async function measureExperiment(input: MeasureInput): Promise<StoredMeasures> {
  const { sandbox, task, signal } = input;
  const drafts = findDrafts(input.steps).drafts.map((step) => step.code!);
  const [code, behaviour] = await Promise.all([
    input.completion.trim() === "" ? undefined : measureCode(sandbox, [`${task.prompt}${input.completion}`], signal).then(([measures]) => measures, failed),
    drafts.length >= 2 ? draftBehaviour(sandbox, task, drafts, signal).catch(() => undefined) : undefined,
  ]);
  return { ...(code ? { code } : {}), ...(behaviour ? { drafts: behaviour } : {}) };
}

function failed(error: unknown): { error: string } {
  return { error: `the sandbox could not measure the code: ${error instanceof Error ? error.message : String(error)}` };
}
