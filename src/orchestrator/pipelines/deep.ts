import { runHybridCoder } from "../../../agents/coder.js";
import { runPlanner } from "../../../agents/planner.js";
import { runReviewer } from "../../../agents/reviewer.js";
import { better, checkAndRecord, writeDrafts, type Pipeline, type Scored } from "../pipeline.js";
import { debugWhileFailing } from "./debug-rounds.js";
import { visibleAndTesterTests } from "./standard.js";

/**
 * Deep: Planner, K parallel Coder trajectories, Tester, Debugger rounds on the best, a hybrid of
 * the best two when none passes, then the Reviewer; a rejection buys one more guided fix.
 * The candidate handed back is the best by visible tests.
 */
export const deep: Pipeline = async (context) => {
  const { task, models, trajectory, settings, signal } = context;
  let stoppedBy = trajectory.exhausted();
  if (stoppedBy) return { completion: "", iterations: 0, stoppedBy };

  const plan = await runPlanner(models.Planner, task, { signal });
  trajectory.add(plan.call);
  if ((stoppedBy = trajectory.exhausted())) return { completion: "", iterations: 0, stoppedBy };

  const drafts = await writeDrafts(context, { plan: plan.plan }, settings.trajectories);
  const tests = await visibleAndTesterTests(context);
  const scored: Scored[] = [];
  for (const draft of drafts) scored.push(await checkAndRecord(context, draft, tests));
  const ranked = [...scored].sort((a, b) => (b.report.passFraction ?? 0) - (a.report.passFraction ?? 0));
  let iterations = drafts.length;

  const debugged = await debugWhileFailing(context, ranked[0]!, tests, plan.plan, iterations);
  let best = debugged.best;
  iterations = debugged.iterations;

  if (!best.report.allPassed && ranked.length >= 2 && !trajectory.exhausted()) {
    const hybrid = await runHybridCoder(models.Coder, task, [best.completion, ranked[1]!.completion], best.report.text, { signal });
    best = better(best, await checkAndRecord(context, hybrid, tests));
    iterations += 1;
  }

  if (!trajectory.exhausted()) {
    const review = await runReviewer(models.Reviewer, task, best.completion, best.report.text, { signal });
    trajectory.add(review.call);
    if (!review.accept) {
      const guided = await debugWhileFailing(
        { ...context, settings: { ...settings, debugRounds: 1 } },
        { ...best, report: { ...best.report, allPassed: false } },
        tests,
        plan.plan,
        iterations,
        review.feedback,
      );
      best = guided.best;
      iterations = guided.iterations;
    }
  }
  return { completion: best.completion, iterations, stoppedBy: trajectory.exhausted() };
};
