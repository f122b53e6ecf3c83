import { DEBUGGER } from "../../../agents/debugger.js";
import { ask } from "../../../agents/run-agent.js";
import type { VisibleTest } from "../../evaluation/visible-tests.js";
import { better, checkAndRecord, functionTaskState, type PipelineContext, type Scored } from "../pipeline.js";

/** One Debugger call on the best candidate's failures; returns the better of the old and the fixed candidate (a "fix" that passes fewer tests is not taken). */
export async function debugOnce(
  context: PipelineContext,
  best: Scored,
  tests: VisibleTest[],
  plan: string | undefined,
  guidance: string | undefined,
  maxTokens?: number,
): Promise<Scored> {
  const fix = await ask(DEBUGGER.humaneval, functionTaskState(context, best, { plan, guidance }), context.models.Debugger, { signal: context.signal, maxTokens });
  return better(best, await checkAndRecord(context, fix, tests));
}
