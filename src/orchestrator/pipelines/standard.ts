import { runCoder } from "../../../agents/coder.js";
import { runPlanner } from "../../../agents/planner.js";
import { runTester } from "../../../agents/tester.js";
import { exampleTests, testerTests, type VisibleTest } from "../../evaluation/visible-tests.js";
import { checkAndRecord, type Pipeline, type PipelineContext } from "../pipeline.js";
import { debugWhileFailing } from "./debug-rounds.js";

/**
 * Standard: Planner, Coder, Tester, then up to `debugRounds` Debugger rounds while tests fail.
 * The Tester is called before the Coder's code is checked and never sees that code, so its
 * tests come from the specification alone and cannot be bent to fit the candidate.
 */
export const standard: Pipeline = async (context) => {
  const { task, models, trajectory, signal } = context;
  let stoppedBy = trajectory.exhausted();
  if (stoppedBy) return { completion: "", iterations: 0, stoppedBy };

  const plan = await runPlanner(models.Planner, task, { signal });
  trajectory.add(plan.call);
  if ((stoppedBy = trajectory.exhausted())) return { completion: "", iterations: 0, stoppedBy };

  const candidate = await runCoder(models.Coder, { task, plan: plan.plan }, { signal });
  const tests = await visibleAndTesterTests(context);
  const first = await checkAndRecord(context, candidate, tests);
  return debugWhileFailing(context, first, tests, plan.plan, 1);
};

/** The docstring's examples plus the Tester's tests, when the budget allows a Tester call. */
export async function visibleAndTesterTests(context: PipelineContext): Promise<VisibleTest[]> {
  const examples = exampleTests(context.task);
  if (context.trajectory.exhausted()) return examples;
  const tester = await runTester(context.models.Tester, context.task, { signal: context.signal });
  context.trajectory.add(tester.call);
  return [...examples, ...testerTests(tester.tests)];
}
