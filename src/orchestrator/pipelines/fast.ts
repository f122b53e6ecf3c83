import { runCoder } from "../../../agents/coder.js";
import { exampleTests } from "../../evaluation/visible-tests.js";
import { checkAndRecord, type Pipeline } from "../pipeline.js";

/**
 * One Coder call, then a check against the docstring's examples. This is both "fast" mode
 * and the standard zero-shot HumanEval protocol: the check feeds nothing back to the model,
 * it only records the step's visible pass fraction (replay training reads it).
 */
export const singleCoder: Pipeline = async (context) => {
  const stoppedBy = context.trajectory.exhausted();
  if (stoppedBy) return { completion: "", iterations: 0, stoppedBy };
  const candidate = await runCoder(context.models.Coder, { task: context.task }, { signal: context.signal });
  const scored = await checkAndRecord(context, candidate, exampleTests(context.task));
  return { completion: scored.completion, iterations: 1 };
};
