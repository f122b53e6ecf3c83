import { z } from "zod";
import { AGENTS, isAgent, MODES, type Agent, type Mode } from "../policy/actions.js";
import type { PublicTask } from "../tasks/task.js";
import { deriveSeed } from "../policy/prng.js";
import { modeFromTags } from "../policy/chosen-mode-tag.js";
import { REPLAY_ARMS } from "../policy/mode-vocabulary.js";
import { MODEL_CALL, type ExperimentRecord, type StepRecord } from "../src/store/index.js";

/**
 * What a replay environment plays back: per task, every logged configuration (a run of
 * one mode on it) with its outcome and, step by step, the agent, the visible pass fraction
 * after the step, tokens and dollars. Plain data with a zod schema, so a log can also come
 * from a JSON file; replayLogFromRecords builds it from store rows.
 *
 * The task itself (prompt, entry point, visible examples) is kept rather than precomputed
 * features, so a log never goes stale when the feature spec changes.
 */
const taskInputSchema = z.object({
  id: z.string().min(1),
  prompt: z.string(),
  entryPoint: z.string(),
  visibleExamples: z.array(z.object({ call: z.string(), expected: z.string() })),
});

export const replayStepSchema = z.object({
  agent: z.enum(AGENTS),
  /** After the step; absent when the step ran no visible tests (the previous value holds). */
  visiblePassFraction: z.number().min(0).max(1).optional(),
  tokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** True when the code after this step is the configuration's final code, so stopping here keeps its verdict. */
  hasFinalCode: z.boolean(),
});

export const replayConfigurationSchema = z.object({
  mode: z.enum(MODES),
  /** The hidden-test verdict of the configuration's final code. */
  success: z.boolean(),
  runId: z.string().optional(),
  experimentId: z.string().optional(),
  steps: z.array(replayStepSchema).min(1),
});

export const replayTaskSchema = z.object({
  task: taskInputSchema,
  configurations: z.array(replayConfigurationSchema).min(1),
});

export const replayLogSchema = z.array(replayTaskSchema);

export type ReplayStep = z.infer<typeof replayStepSchema>;
export type ReplayConfiguration = z.infer<typeof replayConfigurationSchema>;
export type ReplayTask = z.infer<typeof replayTaskSchema>;
export type ReplayLog = ReplayTask[];

/** Arms that are one of the policy's modes by construction: the mode vocabulary's replay arms (policy/mode-vocabulary.ts). */
export const DEFAULT_ARM_MODES: Readonly<Record<string, Mode>> = REPLAY_ARMS;

export interface SkippedExperiment {
  experimentId: string;
  problemId: string;
  arm: string;
  reason: string;
}

export interface ReplayRecordsInput {
  experiments: readonly ExperimentRecord[];
  /** The experiment's steps in order (the store's steps(experimentId)). */
  stepsOf: (experimentId: string) => readonly StepRecord[];
  /** The task text of a problem id; experiments without one are skipped. */
  taskFor: (problemId: string) => PublicTask | undefined;
  /** Which mode an arm stands for, on top of DEFAULT_ARM_MODES. Unmapped arms are skipped. */
  armModes?: Readonly<Record<string, Mode>>;
}

/**
 * Converts stored experiments (one per run × arm × problem) into a replay log: arm → mode,
 * problem → task, steps → replay steps. Steps that are not agents (tools) are folded into
 * the agent step before them. An experiment with no steps (an imported samples file) becomes
 * one Coder step carrying its totals.
 */
export function replayLogFromRecords(input: ReplayRecordsInput): { log: ReplayLog; skipped: SkippedExperiment[] } {
  const armModes = { ...DEFAULT_ARM_MODES, ...input.armModes };
  const byTask = new Map<string, ReplayTask>();
  const skipped: SkippedExperiment[] = [];
  for (const experiment of input.experiments) {
    const skip = (reason: string): void => {
      skipped.push({ experimentId: experiment.experimentId, problemId: experiment.problemId, arm: experiment.arm, reason });
    };
    // An auto run's arm is "auto"; the mode its policy chose is on the experiment's chosen_mode tag.
    const mode = armModes[experiment.arm] ?? modeFromTags(experiment.tags);
    if (!mode) {
      skip(`arm "${experiment.arm}" is not mapped to a mode`);
      continue;
    }
    const task = input.taskFor(experiment.problemId);
    if (!task) {
      skip(`no task text for ${experiment.problemId}`);
      continue;
    }
    const entry = byTask.get(task.id) ?? { task, configurations: [] };
    entry.configurations.push({
      mode,
      success: experiment.success,
      runId: experiment.runId,
      experimentId: experiment.experimentId,
      steps: replaySteps(experiment, input.stepsOf(experiment.experimentId)),
    });
    byTask.set(task.id, entry);
  }
  return { log: [...byTask.values()], skipped };
}

/** A stored step as agentSteps reads it: any store row, or an orchestrator's step before it is stored. */
export type StepLike = Pick<StepRecord, "agent" | "action" | "inputTokens" | "outputTokens" | "costUsd" | "visiblePassFraction" | "code">;

/** One agent step as the policy counts it: a model call of an agent, with the tool calls and koderz's checks that followed it. */
export interface AgentStepOfRecords {
  agent: Agent;
  visiblePassFraction?: number;
  tokens: number;
  costUsd: number;
  code?: string;
}

/**
 * Stored steps folded into the agent steps a policy decides between: each model call of an
 * agent starts one, and a tool call (or koderz's own test run) belongs to the agent step before
 * it, its visible result included. The one reading of a trajectory, for a replay (training) and
 * for solve's rung ends (training/ladder-state.ts).
 */
export function agentSteps(records: readonly StepLike[]): AgentStepOfRecords[] {
  const merged: AgentStepOfRecords[] = [];
  for (const record of records) {
    const tokens = record.inputTokens + record.outputTokens;
    const last = merged[merged.length - 1];
    const agent = record.action === MODEL_CALL && isAgent(record.agent) ? record.agent : undefined;
    if (agent || !last) {
      merged.push({
        agent: agent ?? "Coder",
        visiblePassFraction: record.visiblePassFraction,
        tokens,
        costUsd: record.costUsd,
        code: record.code,
      });
    } else {
      // A tool call belongs to the agent that made it; koderz's own steps to the agent before them.
      last.tokens += tokens;
      last.costUsd += record.costUsd;
      last.visiblePassFraction = record.visiblePassFraction ?? last.visiblePassFraction;
      last.code = record.code ?? last.code;
    }
  }
  return merged;
}

function replaySteps(experiment: ExperimentRecord, records: readonly StepRecord[]): ReplayStep[] {
  const merged = agentSteps(records);
  if (merged.length === 0) {
    return [{ agent: "Coder", tokens: experiment.inputTokens + experiment.outputTokens, costUsd: experiment.costUsd, hasFinalCode: true }];
  }
  // The code in hand after each step, to know where stopping early keeps the final verdict.
  let code: string | undefined;
  const codeAfter = merged.map((step) => (code = step.code ?? code));
  const finalCode = experiment.finalCode ?? code;
  return merged.map((step, i) => ({
    agent: step.agent,
    ...(step.visiblePassFraction === undefined ? {} : { visiblePassFraction: step.visiblePassFraction }),
    tokens: step.tokens,
    costUsd: step.costUsd,
    hasFinalCode: i === merged.length - 1 || (finalCode !== undefined && codeAfter[i] === finalCode),
  }));
}

/** The minimum of the store a replay needs; src/store's Store satisfies it. */
export interface StoredRunReader {
  experiments(runId: string): ExperimentRecord[];
  steps(experimentId: string): StepRecord[];
}

/** Builds a replay log from stored runs (all their experiments). */
export function replayLogFromStore(
  store: StoredRunReader,
  runIds: readonly string[],
  taskFor: (problemId: string) => PublicTask | undefined,
  armModes?: Readonly<Record<string, Mode>>,
): { log: ReplayLog; skipped: SkippedExperiment[] } {
  const experiments = runIds.flatMap((runId) => store.experiments(runId));
  return replayLogFromRecords({ experiments, stepsOf: (id) => store.steps(id), taskFor, armModes });
}

/**
 * Splits by task (never by episode), so held-out figures are on tasks the policy never
 * trained on. Deterministic for a seed; at least one task on each side when there are two.
 */
export function splitReplayLogByTask(log: ReplayLog, heldOutFraction: number, seed: number): { training: ReplayLog; heldOut: ReplayLog } {
  const ranked = shuffledByTask(log, seed, "split");
  let heldOutCount = Math.round(log.length * heldOutFraction);
  if (log.length >= 2) heldOutCount = Math.min(log.length - 1, Math.max(1, heldOutCount));
  return { heldOut: ranked.slice(0, heldOutCount), training: ranked.slice(heldOutCount) };
}

/** The log's tasks in an order drawn from the seed and `purpose` (a split, folds): the same for the same seed, whatever order the log came in. */
export function shuffledByTask(log: ReplayLog, seed: number, purpose: string): ReplayLog {
  return [...log].sort((a, b) => deriveSeed(seed, purpose, a.task.id) - deriveSeed(seed, purpose, b.task.id));
}
