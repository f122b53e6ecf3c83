import { runDebugger } from "../../../agents/debugger.js";
import type { VisibleTest } from "../checks.js";
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
    const fix = await runDebugger(
      context.models.Debugger,
      { task: context.task, completion: best.completion, failures: best.report.text, plan, guidance },
      { signal: context.signal },
    );
    best = better(best, await checkAndRecord(context, fix, tests));
    iterations += 1;
  }
  return { completion: best.completion, iterations, stoppedBy, best };
}
