import { runDebugger } from "../../../agents/debugger.js";
import type { VisibleTest } from "../../evaluation/visible-tests.js";
import { better, checkAndRecord, type PipelineContext, type PipelineResult, type Scored } from "../pipeline.js";

/**
 * Debugger rounds shared by standard and deep: fix while tests fail, keep the best candidate
 * seen (a "fix" that passes fewer tests is not taken), stop at the round limit or the budget.
 */
export async function debugWhileFailing(
  context: PipelineContext,
  start: Scored,
  tests: VisibleTest[],
  plan: string,
  iterationsSoFar: number,
  guidance?: string,
): Promise<PipelineResult & { best: Scored }> {
  let best = start;
  let iterations = iterationsSoFar;
  let stoppedBy: string | undefined;
  for (let round = 0; round < context.settings.debugRounds && !best.report.allPassed; round++) {
    if ((stoppedBy = context.trajectory.exhausted())) break;
    best = await debugOnce(context, best, tests, plan, guidance);
    iterations += 1;
  }
  return { completion: best.completion, iterations, stoppedBy, best };
}

/** One Debugger call on the best candidate's failures; returns the better of the old and the fixed candidate. */
export async function debugOnce(
  context: PipelineContext,
  best: Scored,
  tests: VisibleTest[],
  plan: string | undefined,
  guidance: string | undefined,
): Promise<Scored> {
  const fix = await runDebugger(
    context.models.Debugger,
    { task: context.task, completion: best.completion, failures: best.report.text, plan, guidance },
    { signal: context.signal },
  );
  return better(best, await checkAndRecord(context, fix, tests));
}
