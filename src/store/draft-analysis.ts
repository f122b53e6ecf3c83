import { z } from "zod";
import { codeSimilarity } from "./code-similarity.js";
import type { ExperimentRecord, StepRecord, StoredMeasures } from "./records.js";

/**
 * What heavy mode's K drafts bought, read from an experiment's stored steps (so it works on every
 * deep run ever recorded) and, where the sandbox ran them on generated inputs, their behaviour.
 *
 * Deep mode writes its drafts as K consecutive Coder steps with code, the first Coder steps of
 * the episode (src/orchestrator/episode.ts); the hybrid is a later Coder step whose prompt shows
 * the two best candidates (agents/coder.ts, runHybridCoder). A draft's score is its visible pass
 * fraction, the figure the pipeline itself picked the best draft by.
 */
export type DraftStep = Pick<StepRecord, "agent" | "code" | "prompt" | "visiblePassFraction">;

/** The hybrid prompt's words, as runHybridCoder writes them (the store cannot import agents/). */
const HYBRID_PROMPT = /Two candidates passed the most tests/;

export function findDrafts<S extends DraftStep>(steps: readonly S[]): { drafts: S[]; hybrid?: S } {
  const start = steps.findIndex((step) => step.agent === "Coder" && step.code !== undefined);
  if (start < 0) return { drafts: [] };
  let end = start;
  while (end < steps.length && steps[end]!.agent === "Coder" && steps[end]!.code !== undefined && !HYBRID_PROMPT.test(steps[end]!.prompt ?? "")) end++;
  const drafts = steps.slice(start, end);
  if (drafts.length < 2) return { drafts: [] };
  const hybrid = steps.slice(end).find((step) => step.agent === "Coder" && step.code !== undefined && HYBRID_PROMPT.test(step.prompt ?? ""));
  return hybrid ? { drafts, hybrid } : { drafts };
}

export interface DraftAnalysis {
  drafts: number;
  /** Mean code similarity over every pair of drafts (1: the same code up to names and layout). */
  codeSimilarity: number;
  /** Every pair of drafts is the same code up to names and layout. */
  codeConverged: boolean;
  /** Mean share of generated inputs on which two drafts return the same, over every pair; when measured. */
  behaviourAgreement?: number;
  /** Every draft returns the same on every generated input. */
  behaviourConverged?: boolean;
  firstDraftScore?: number;
  bestDraftScore?: number;
  /** The best of the K drafts scores higher than the first one: what sampling K bought over one. */
  bestBeatsFirst?: boolean;
  /** The hybrid's score minus the best draft's, when a hybrid ran. */
  hybridGain?: number;
  /**
   * By the scorer's verdict on each draft (HumanEval: hidden tests), when the drafts were scored
   * after the run: some draft passes where the first fails.
   */
  verdictBestBeatsFirst?: boolean;
  /** By that verdict: the hybrid's (1 pass, 0 fail) minus the best draft's, when a hybrid ran. */
  verdictHybridGain?: number;
}

/** The analysis of one experiment, or undefined when it wrote fewer than two drafts. */
export function analyseDrafts(steps: readonly DraftStep[], measures: StoredMeasures = {}): DraftAnalysis | undefined {
  const { drafts: behaviour, draftVerdicts: verdicts } = measures;
  const { drafts, hybrid } = findDrafts(steps);
  if (drafts.length < 2) return undefined;
  const similarities = pairs(drafts.length).map(([i, j]) => codeSimilarity(drafts[i]!.code!, drafts[j]!.code!));
  const analysis: DraftAnalysis = {
    drafts: drafts.length,
    codeSimilarity: mean(similarities),
    codeConverged: similarities.every((s) => s === 1),
  };
  if (behaviour && behaviour.inputs > 0 && behaviour.outputs.length === drafts.length) {
    const agreements = pairs(drafts.length).map(([i, j]) => agreement(behaviour.outputs[i]!, behaviour.outputs[j]!));
    analysis.behaviourAgreement = mean(agreements);
    analysis.behaviourConverged = agreements.every((a) => a === 1);
  }
  const scores = drafts.map((draft) => draft.visiblePassFraction);
  if (scores.every((score): score is number => score !== undefined)) {
    analysis.firstDraftScore = scores[0]!;
    analysis.bestDraftScore = Math.max(...scores);
    analysis.bestBeatsFirst = analysis.bestDraftScore > analysis.firstDraftScore;
    if (hybrid?.visiblePassFraction !== undefined) analysis.hybridGain = hybrid.visiblePassFraction - analysis.bestDraftScore;
  }
  if (verdicts && verdicts.drafts.length === drafts.length) {
    const anyPassed = verdicts.drafts.some(Boolean);
    analysis.verdictBestBeatsFirst = anyPassed && !verdicts.drafts[0];
    if (hybrid && verdicts.hybrid !== undefined) analysis.verdictHybridGain = Number(verdicts.hybrid) - Number(anyPassed);
  }
  return analysis;
}

/** The share of inputs on which two drafts returned the same thing. */
function agreement(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  return same / n;
}

function pairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out.push([i, j]);
  return out;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** An arm's heavy-mode figures, as the summary JSON, `results show` and the report give them; rates are fractions. */
export const HeavyModeSchema = z.strictObject({
  /** Experiments that wrote two drafts or more. */
  experiments: z.number().int().nonnegative(),
  meanDrafts: z.number().nonnegative(),
  meanCodeSimilarity: z.number().min(0).max(1),
  codeConvergenceRate: z.number().min(0).max(1),
  /** Experiments whose drafts were run on generated inputs. */
  behaviourMeasured: z.number().int().nonnegative(),
  meanBehaviourAgreement: z.number().min(0).max(1).nullable(),
  behaviourConvergenceRate: z.number().min(0).max(1).nullable(),
  /** Experiments where the hybrid ran. */
  hybridRuns: z.number().int().nonnegative(),
  meanHybridGain: z.number().min(-1).max(1).nullable(),
  bestOfKBeatsFirstRate: z.number().min(0).max(1).nullable(),
  /** The same two by the scorer's verdict on each draft, taken after the run (HumanEval: hidden tests). */
  verdictsMeasured: z.number().int().nonnegative(),
  verdictBestOfKBeatsFirstRate: z.number().min(0).max(1).nullable(),
  verdictHybridGain: z.number().min(-1).max(1).nullable(),
});
export type HeavyModeFigures = z.infer<typeof HeavyModeSchema>;

/** Reads each experiment's steps only when asked: the caller knows which runs can have drafts. */
export function heavyModeFigures(experiments: readonly ExperimentRecord[], stepsOf: (experimentId: string) => readonly DraftStep[]): HeavyModeFigures | undefined {
  const analyses = experiments.flatMap((e) => analyseDrafts(stepsOf(e.experimentId), e.measures) ?? []);
  if (analyses.length === 0) return undefined;
  const behaved = analyses.filter((a) => a.behaviourAgreement !== undefined);
  const hybrids = analyses.flatMap((a) => (a.hybridGain === undefined ? [] : [a.hybridGain]));
  const scored = analyses.filter((a) => a.bestBeatsFirst !== undefined);
  const judged = analyses.filter((a) => a.verdictBestBeatsFirst !== undefined);
  const judgedHybrids = analyses.flatMap((a) => (a.verdictHybridGain === undefined ? [] : [a.verdictHybridGain]));
  const rate = (hits: number, of: number) => (of === 0 ? null : hits / of);
  return {
    experiments: analyses.length,
    meanDrafts: mean(analyses.map((a) => a.drafts)),
    meanCodeSimilarity: mean(analyses.map((a) => a.codeSimilarity)),
    codeConvergenceRate: rate(analyses.filter((a) => a.codeConverged).length, analyses.length)!,
    behaviourMeasured: behaved.length,
    meanBehaviourAgreement: behaved.length ? mean(behaved.map((a) => a.behaviourAgreement!)) : null,
    behaviourConvergenceRate: rate(behaved.filter((a) => a.behaviourConverged).length, behaved.length),
    hybridRuns: hybrids.length,
    meanHybridGain: hybrids.length ? mean(hybrids) : null,
    bestOfKBeatsFirstRate: rate(scored.filter((a) => a.bestBeatsFirst).length, scored.length),
    verdictsMeasured: judged.length,
    verdictBestOfKBeatsFirstRate: rate(judged.filter((a) => a.verdictBestBeatsFirst).length, judged.length),
    verdictHybridGain: judgedHybrids.length ? mean(judgedHybrids) : null,
  };
}
