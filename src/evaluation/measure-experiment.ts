import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { findDrafts, type DraftStep, type DraftVerdicts, type StoredMeasures } from "../store/index.js";
import { measureCode } from "./code-measures.js";
import { draftBehaviour } from "./draft-behaviour.js";
import { DEFAULT_TIMEOUT_SECONDS } from "./program.js";
import { scorerFor } from "./scorers/index.js";

export interface MeasureInput {
  sandbox: Sandbox;
  task: Task;
  /** The final code handed to the grader. */
  completion: string;
  /** The experiment's steps: deep mode's drafts are read from them. */
  steps: readonly DraftStep[];
  /** The limit the final code's verdict ran under (HumanEval+: scaled per task). */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/**
 * What the sandbox measures of a finished experiment beyond its verdict: the final code's
 * quality and, when it wrote K drafts, how each behaves on generated inputs and the verdict each
 * (and the hybrid) gets from the task's scorer. A measure that could not be taken is left out
 * (or says why): it never changes nor fails the experiment.
 */
export async function measureExperiment(input: MeasureInput): Promise<StoredMeasures> {
  const { sandbox, task, signal } = input;
  const found = findDrafts(input.steps);
  const drafts = found.drafts.map((step) => step.code!);
  const [code, behaviour, verdicts] = await Promise.all([
    input.completion.trim() === "" ? undefined : measureCode(sandbox, [`${task.prompt}${input.completion}`], signal).then(([measures]) => measures, failed),
    drafts.length >= 2 ? draftBehaviour(sandbox, task, drafts, signal).catch(() => undefined) : undefined,
    drafts.length >= 2 ? draftVerdicts(input, drafts, found.hybrid?.code).catch(() => undefined) : undefined,
  ]);
  return { ...(code ? { code } : {}), ...(behaviour ? { drafts: behaviour } : {}), ...(verdicts ? { draftVerdicts: verdicts } : {}) };
}

/**
 * Each draft and the hybrid scored as the final code is, after the experiment: what best-of-K and
 * the hybrid bought by the measure that counts, not by the few visible examples the pipeline
 * picked with. Only scorers that decide by running code (tests, match): a rubric's judge would
 * be K paid model calls more per problem, and agentic cases write no drafts.
 */
async function draftVerdicts(input: MeasureInput, drafts: readonly string[], hybrid: string | undefined): Promise<DraftVerdicts | undefined> {
  const { task, sandbox, signal } = input;
  const scorer = scorerFor(task);
  if (scorer.name !== "tests" && scorer.name !== "match") return undefined;
  const timeoutSeconds = input.timeoutSeconds ?? task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  // Each distinct code once (converged drafts are the same code), one at a time: a batch each,
  // beside the behaviour probe's, on a sandbox other experiments share.
  const codes = [...drafts, ...(hybrid === undefined ? [] : [hybrid])];
  const passedByCode = new Map<string, boolean>();
  for (const completion of new Set(codes)) passedByCode.set(completion, (await scorer.score({ task, completion, sandbox, timeoutSeconds, signal })).passed);
  const passes = codes.map((code) => passedByCode.get(code)!);
  return { drafts: passes.slice(0, drafts.length), ...(hybrid === undefined ? {} : { hybrid: passes[drafts.length]! }) };
}

function failed(error: unknown): { error: string } {
  return { error: `the sandbox could not measure the code: ${error instanceof Error ? error.message : String(error)}` };
}
