import { verdictProgram } from "../program.js";
import type { Scorer } from "./scorer.js";

/**
 * The HumanEval verdict: prompt + completion run as the candidate, the hidden test and
 * check(entry_point) in the sandbox's judge. A suite file's `test` field is such a test.
 */
export const testsScorer: Scorer = {
  name: "tests",
  async score({ task, completion, sandbox, timeoutSeconds }) {
    const test = task.scoring?.scorer === "tests" ? task.scoring.test : task.hiddenTest;
    const [verdict] = await sandbox.run([{ id: task.id, ...verdictProgram({ ...task, hiddenTest: test }, completion), timeoutSeconds }]);
    return { passed: verdict!.passed, verdict: verdict!.result, calls: [] };
  },
};
