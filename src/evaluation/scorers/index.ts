import type { Task } from "../../../tasks/task.js";
import { matchScorer } from "./match.js";
import { rubricScorer } from "./rubric.js";
import type { ScoreInput, ScoreResult, Scorer } from "./scorer.js";
import { testsScorer } from "./tests.js";
import { toolTraceScorer } from "./tool-trace.js";

export type { AgenticEvidence, CriterionScore, ScoreInput, ScoreResult, Scorer, ScorerCall, TracedToolCall } from "./scorer.js";

/** Every scorer by the name suite files use; a new scorer is one file and one line here. */
export const SCORERS: Readonly<Record<string, Scorer>> = {
  [testsScorer.name]: testsScorer,
  [matchScorer.name]: matchScorer,
  [rubricScorer.name]: rubricScorer,
  [toolTraceScorer.name]: toolTraceScorer,
};

/** The scorer a task names; HumanEval's tasks (no scoring spec) are scored by their hidden tests. */
export function scorerFor(task: Pick<Task, "scoring">): Scorer {
  const name = task.scoring?.scorer ?? "tests";
  const scorer = SCORERS[name];
  if (!scorer) throw new Error(`no scorer named ${name}`);
  return scorer;
}

/** Scores a final completion with its task's scorer. */
export function scoreCompletion(input: ScoreInput): Promise<ScoreResult> {
  return scorerFor(input.task).score(input);
}
