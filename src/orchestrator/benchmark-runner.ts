import pLimit from "p-limit";
import type { Agent } from "../../agents/agent.js";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import type { ModelBackend } from "../llm/types.js";
import { escalationsTag, experimentIdFor, type Store } from "../store/index.js";
import { runAutoExperiment, type AutoExperimentOutcome, type AutoPilot } from "./auto-experiment.js";
import type { Budget } from "./budget.js";
import { chosenModeTag } from "../../policy/chosen-mode-tag.js";
import { runExperiment, type ExperimentOutcome, type ExperimentSpec } from "./experiment.js";
import { runAgenticExperiment } from "./agentic-experiment.js";
import type { PipelineMode, PipelineSettings } from "./pipeline.js";
import type { StepDraft } from "./trajectory.js";
import type { EpisodeRunnerOptions } from "./episode-runner.js";
import type { Ladder } from "./ladder.js";

export { BENCHMARK_MODES, type BenchmarkMode } from "./modes.js";
import type { BenchmarkMode } from "./modes.js";

/** One arm of a run: a comparative run has two (zero-shot and iterative) on the same problems. */
export interface BenchmarkArm {
  arm: string;
  /** auto: the meta-controller picks each task's mode and agents (see auto-experiment.ts). */
  mode: PipelineMode | "auto";
}

export function armsFor(mode: BenchmarkMode | "auto"): BenchmarkArm[] {
  if (mode === "comparative") {
    return [
      { arm: "zero-shot", mode: "zero-shot" },
      { arm: "iterative", mode: "iterative" },
    ];
  }
  return [{ arm: mode, mode }];
}

export interface FinishedExperiment {
  experimentId: string;
  task: Task;
  arm: string;
  outcome: ExperimentOutcome;
}

export interface BenchmarkJob {
  runId: string;
  tasks: Task[];
  arms: BenchmarkArm[];
  concurrency: number;
  settings: PipelineSettings;
  budget?: Budget;
  store: Store;
  sandbox: Sandbox;
  /** Backends for one experiment, already wired to log their calls under its id. */
  modelsFor(experimentId: string): Record<Agent, ModelBackend>;
  hiddenTimeoutSeconds(task: Task): number;
  /** Decides the auto arm's experiments; required when an arm is auto. */
  autoPilot?: AutoPilot;
  /** auto: the ladder the policy may climb, and a backend (logging under the experiment) for each model a rung names. */
  ladder?: { ladder: Ladder; backendFor(experimentId: string, model: string): ModelBackend };
  /** Once the work is known: how many (arm, task) pairs in all, and how many the store already has. */
  onStart?(progress: { total: number; skipped: number }): void;
  onFinished?(finished: FinishedExperiment): void;
  /** Each agent step as it happens, for a live trace. */
  onStep?(task: Task, arm: string, step: StepDraft, index: number): void;
  signal?: AbortSignal;
}

export interface BenchmarkProgress {
  total: number;
  /** Already in the store when the run (re)started: a resumed run skips them. */
  skipped: number;
  completed: number;
}

/**
 * Runs every (arm, task) pair not yet in the store, `concurrency` at a time. Each experiment is
 * written in one transaction when it finishes, so a run killed at any point resumes with nothing
 * lost and nothing counted twice. An abort stops new experiments; unfinished ones are not written.
 * The first failure (a model that stays down after retries, say) stops the run the same way and
 * is rethrown: the user fixes the cause and resumes.
 */
export async function runBenchmark(job: BenchmarkJob): Promise<BenchmarkProgress> {
  const pending: Array<{ task: Task; arm: BenchmarkArm }> = [];
  let skipped = 0;
  for (const arm of job.arms) {
    const done = job.store.completedProblems(job.runId, arm.arm);
    for (const task of job.tasks) {
      if (done.has(task.id)) skipped += 1;
      else pending.push({ task, arm });
    }
  }
  job.onStart?.({ total: pending.length + skipped, skipped });

  const stop = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, stop.signal]) : stop.signal;
  let firstError: unknown;
  const limit = pLimit(Math.max(1, job.concurrency));
  let completed = 0;
  await Promise.all(
    pending.map(({ task, arm }) =>
      limit(async () => {
        if (signal.aborted) return;
        const experimentId = experimentIdFor(job.runId, arm.arm, task.id);
        const spec: Omit<ExperimentSpec, "mode"> = {
          task,
          models: job.modelsFor(experimentId),
          sandbox: job.sandbox,
          settings: job.settings,
          budget: job.budget,
          hiddenTimeoutSeconds: job.hiddenTimeoutSeconds(task),
          onStep: job.onStep && ((step, index) => job.onStep!(task, arm.arm, step, index)),
          signal,
        };
        try {
          const ladder = job.ladder && { ladder: job.ladder.ladder, backend: (model: string) => job.ladder!.backendFor(experimentId, model) };
          const { outcome, auto } = await runArmExperiment(job, arm, { ...spec, ladder });
          if (signal.aborted) return;
          job.store.recordExperiment(
            {
              experimentId,
              runId: job.runId,
              problemId: task.id,
              arm: arm.arm,
              success: outcome.success,
              iterations: outcome.iterations,
              inputTokens: outcome.inputTokens,
              outputTokens: outcome.outputTokens,
              costUsd: outcome.costUsd,
              wallSeconds: outcome.wallSeconds,
              finalCode: outcome.completion,
              verdict: outcome.verdict,
              // HumanEval's problems have no category of their own: the suite stands for one.
              category: task.category ?? task.suite,
              suite: task.suite,
              tier: task.tier,
              score: outcome.score,
              scoreCriteria: outcome.criteria,
              measures: outcome.measures,
              // chosen_mode: lets results, compare and the replay environment see auto mode's mode mix.
              tags: ["benchmark_run", `mode:${arm.mode}`, ...(auto ? [chosenModeTag(auto.chosenMode)] : []), ...(auto && job.ladder ? [escalationsTag(auto.escalations)] : [])],
            },
            outcome.steps.map((step, index) => ({ ...step, experimentId, index })),
          );
          completed += 1;
          job.onFinished?.({ experimentId, task, arm: arm.arm, outcome });
          // After the store write: an update never waits on, nor holds up, a finished experiment's record.
          if (auto) await job.autoPilot?.afterEpisode?.(auto.trace);
        } catch (error) {
          if (!signal.aborted) firstError ??= error;
          stop.abort();
        }
      }),
    ),
  );
  if (firstError !== undefined) throw firstError;
  return { total: pending.length + skipped, skipped, completed };
}

async function runArmExperiment(
  job: BenchmarkJob,
  arm: BenchmarkArm,
  spec: Omit<ExperimentSpec, "mode"> & Pick<EpisodeRunnerOptions, "ladder">,
): Promise<{ outcome: ExperimentOutcome; auto?: AutoExperimentOutcome }> {
  // Agentic cases (a workspace, tools, the tool-trace scorer) have their own solver.
  if (arm.mode !== "auto") return { outcome: await (spec.task.workspace ? runAgenticExperiment : runExperiment)({ ...spec, mode: arm.mode }) };
  if (!job.autoPilot) throw new Error("an auto arm needs an autoPilot in the benchmark job");
  const auto = await runAutoExperiment(spec, job.autoPilot);
  return { outcome: auto, auto };
}
