import { z } from "zod";
import type { CodeMeasures, ExperimentRecord } from "./records.js";

/**
 * An arm's code-quality figures next to its correctness: the mean cyclomatic complexity and
 * maintainability index of the final code, over all measured experiments and over the solved
 * ones (a wrong answer is often short, so the solved ones are the fair comparison across models).
 */
export const CodeQualitySchema = z.strictObject({
  /** Experiments whose final code was measured (code that does not parse is not). */
  measured: z.number().int().nonnegative(),
  meanCyclomaticComplexity: z.number().nonnegative().nullable(),
  meanMaintainabilityIndex: z.number().min(0).max(100).nullable(),
  solvedMeanCyclomaticComplexity: z.number().nonnegative().nullable(),
  solvedMeanMaintainabilityIndex: z.number().min(0).max(100).nullable(),
});
export type CodeQuality = z.infer<typeof CodeQualitySchema>;

/** The final code's measures, when the sandbox took them. */
export function codeMeasuresOf(experiment: Pick<ExperimentRecord, "measures">): CodeMeasures | undefined {
  const code = experiment.measures?.code;
  return code && "cyclomatic" in code ? code : undefined;
}

export function codeQuality(experiments: readonly ExperimentRecord[]): CodeQuality | undefined {
  const measured = experiments.flatMap((e) => {
    const code = codeMeasuresOf(e);
    return code ? [{ code, success: e.success }] : [];
  });
  if (measured.length === 0) return undefined;
  const solved = measured.filter((m) => m.success);
  const mean = (values: number[]) => (values.length ? Math.round((100 * values.reduce((sum, v) => sum + v, 0)) / values.length) / 100 : null);
  return {
    measured: measured.length,
    meanCyclomaticComplexity: mean(measured.map((m) => m.code.cyclomatic)),
    meanMaintainabilityIndex: mean(measured.map((m) => m.code.maintainability)),
    solvedMeanCyclomaticComplexity: mean(solved.map((m) => m.code.cyclomatic)),
    solvedMeanMaintainabilityIndex: mean(solved.map((m) => m.code.maintainability)),
  };
}
