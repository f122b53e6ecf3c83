import { runCoder } from "../../../agents/coder.js";
import { runDebugger } from "../../../agents/debugger.js";
import { runPlanner } from "../../../agents/planner.js";
import { runReviewer } from "../../../agents/reviewer.js";
import { exampleTests } from "../../evaluation/visible-tests.js";
import { checkAndRecord, type Pipeline } from "../pipeline.js";

/**
 * Iterative: the Planner writes a spec, then the Coder and Debugger (the local model by default)
 * iterate on visible-test feedback; after every `checkpointEvery` iterations the Reviewer (the
 * frontier model by default) reads the failing candidate and gives guidance.
 */
export const iterative: Pipeline = async (context) => {
  const { task, models, trajectory, settings, signal } = context;
  const tests = exampleTests(task);
  let stoppedBy = trajectory.exhausted();
  if (stoppedBy) return { completion: "", iterations: 0, stoppedBy };

  const spec = await runPlanner(models.Planner, task, { signal });
  trajectory.add(spec.call);
  if ((stoppedBy = trajectory.exhausted())) return { completion: "", iterations: 0, stoppedBy };

  let current = await checkAndRecord(context, await runCoder(models.Coder, { task, plan: spec.plan }, { signal }), tests);
  let iterations = 1;
  let guidance: string | undefined;
  while (!current.report.allPassed && iterations < settings.maxIterations) {
    if ((stoppedBy = trajectory.exhausted())) break;
    if (iterations % settings.checkpointEvery === 0) {
      const review = await runReviewer(models.Reviewer, task, current.completion, current.report.text, { signal });
      trajectory.add(review.call);
      guidance = review.feedback;
      if ((stoppedBy = trajectory.exhausted())) break;
    }
    const fix = await runDebugger(
      models.Debugger,
      { task, completion: current.completion, failures: current.report.text, plan: spec.plan, guidance },
      { signal },
    );
    current = await checkAndRecord(context, fix, tests);
    iterations += 1;
  }
  return { completion: current.completion, iterations, stoppedBy };
};
