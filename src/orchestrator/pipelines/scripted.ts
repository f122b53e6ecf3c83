import type { Mode } from "../../../policy/actions.js";
import { episodeResult, runAgentStep, scriptedNext, startEpisodeWork } from "../episode.js";
import type { Pipeline } from "../pipeline.js";

/**
 * The fixed pipelines of fast, standard and deep: each runs its mode's script from the mode
 * spec (policy/mode-spec.ts) on the same episode work, and with the same agent steps, as the
 * meta-controller's live episodes (episode.ts). The script reads the evidence after each step
 * (the best candidate's checks, the Reviewer's verdict), so, for deep:
 *   Planner, Tester (from the specification alone, before any code), K parallel Coder drafts,
 *   Debugger rounds on the best while it fails, a hybrid of the best two when it still fails,
 *   the Reviewer; a rejection buys one Debugger round guided by the review.
 * fast is also the zero-shot HumanEval protocol: one Coder call, checked against the docstring's
 * examples only to record the step's visible pass fraction (nothing is fed back).
 */
export function scriptedPipeline(mode: Mode): Pipeline {
  return async (context) => {
    const work = startEpisodeWork(context, mode);
    for (let next = scriptedNext(work); next !== "Stop"; next = scriptedNext(work)) {
      const stoppedBy = context.trajectory.exhausted();
      if (stoppedBy) return { ...episodeResult(work), stoppedBy };
      await runAgentStep(work, next);
    }
    return { ...episodeResult(work), stoppedBy: undefined };
  };
}
