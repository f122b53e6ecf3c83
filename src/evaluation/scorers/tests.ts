import { hiddenVerdict } from "../hidden-verdict.js";
import type { Scorer } from "./scorer.js";

/**
 * The HumanEval verdict (see hidden-verdict.ts): prompt + completion run as the candidate, the
 * hidden test and check(entry_point) in the sandbox's judge. A suite file's `test` field is such
 * a test; HumanEval's tasks carry theirs as hiddenTest.
 */
export const testsScorer: Scorer = {
  name: "tests",
  async score({ task, completion, sandbox, timeoutSeconds }) {
    const graded = task.scoring?.scorer === "tests" ? { ...task, hiddenTest: task.scoring.test } : task;
    const verdict = await hiddenVerdict(sandbox, graded, completion, timeoutSeconds);
    return { passed: verdict.passed, verdict: verdict.result, calls: [] };
  },
};
