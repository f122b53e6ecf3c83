import { CODER } from "../../../agents/coder.js";
import { DEBUGGER } from "../../../agents/debugger.js";
import { PLANNER } from "../../../agents/planner.js";
import { REVIEWER } from "../../../agents/reviewer.js";
import { ask } from "../../../agents/run-agent.js";
import { exampleTests } from "../../evaluation/visible-tests.js";
import { checkAndRecord, functionTaskState, type Pipeline } from "../pipeline.js";

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

  const planned = await ask(PLANNER.humaneval, { task }, models.Planner, { signal });
  trajectory.add(planned.call);
  const plan = planned.output;
  if ((stoppedBy = trajectory.exhausted())) return { completion: "", iterations: 0, stoppedBy };

  let current = await checkAndRecord(context, await ask(CODER.humaneval, { task, plan }, models.Coder, { signal }), tests);
  let iterations = 1;
  let guidance: string | undefined;
  while (!current.report.allPassed && iterations < settings.maxIterations) {
    if ((stoppedBy = trajectory.exhausted())) break;
    if (iterations % settings.checkpointEvery === 0) {
      const review = await ask(REVIEWER.humaneval, functionTaskState(context, current), models.Reviewer, { signal });
      trajectory.add(review.call);
      guidance = review.output.feedback;
      if ((stoppedBy = trajectory.exhausted())) break;
    }
    const fix = await ask(DEBUGGER.humaneval, functionTaskState(context, current, { plan, guidance }), models.Debugger, { signal });
    current = await checkAndRecord(context, fix, tests);
    iterations += 1;
  }
  return { completion: current.completion, iterations, stoppedBy };
};
