import { z } from "zod";
import { codeQuality, CodeQualitySchema, DRAFTING_MODES, heavyModeFigures, HeavyModeSchema, type ExperimentRecord, type HeavyModeFigures, type RunRecord, type Store } from "../store/index.js";
import { formatPercent } from "./table.js";

/** Per arm: the final code's quality and, for runs that sample drafts, what the K drafts bought. */
export const ArmQualitySchema = z.strictObject({ arm: z.string(), codeQuality: CodeQualitySchema.nullable(), heavyMode: HeavyModeSchema.nullable() });
export type ArmQuality = z.infer<typeof ArmQualitySchema>;

export function armQuality(store: Store, run: RunRecord, experiments: readonly ExperimentRecord[] = store.experiments(run.runId)): ArmQuality[] {
  const arms = [...new Set(experiments.map((e) => e.arm))];
  return arms.flatMap((arm) => {
    const ofArm = experiments.filter((e) => e.arm === arm);
    const quality = codeQuality(ofArm);
    const heavy = DRAFTING_MODES.has(run.mode) ? heavyModeFigures(ofArm, (id) => store.steps(id)) : undefined;
    return quality || heavy ? [{ arm, codeQuality: quality ?? null, heavyMode: heavy ?? null }] : [];
  });
}

/** What `results show` prints under its tables; nothing for a run with neither. */
export function renderQualityFigures(arms: readonly ArmQuality[]): string {
  const blocks = arms.flatMap(({ arm, codeQuality: quality, heavyMode: heavy }) => {
    const title = arms.length > 1 ? ` (${arm})` : "";
    const lines: string[] = [];
    if (quality) {
      lines.push(
        `code quality${title}: ${quality.measured} final programs measured; ` +
          `cyclomatic complexity ${figure(quality.meanCyclomaticComplexity)} mean (solved ${figure(quality.solvedMeanCyclomaticComplexity)}), ` +
          `maintainability index ${figure(quality.meanMaintainabilityIndex)}/100 mean (solved ${figure(quality.solvedMeanMaintainabilityIndex)})`,
      );
    }
    if (heavy) {
      const behaviour =
        heavy.meanBehaviourAgreement === null
          ? "not measured"
          : `${heavy.meanBehaviourAgreement.toFixed(2)} mean agreement over ${heavy.behaviourMeasured}; the same outputs in ${formatPercent(heavy.behaviourConvergenceRate! * 100)}`;
      const figures: [string, string][] = [
        ["drafts' code similarity", `${heavy.meanCodeSimilarity.toFixed(2)} mean; the same code in ${formatPercent(heavy.codeConvergenceRate * 100)}`],
        ["drafts' behaviour on generated inputs", behaviour],
        ["best of K beats the first draft", `${heavy.bestOfKBeatsFirstRate === null ? "-" : formatPercent(heavy.bestOfKBeatsFirstRate * 100)} (visible pass fraction)`],
        ["hybrid gain over the best draft", heavy.meanHybridGain === null ? "no hybrid ran" : `${signed(heavy.meanHybridGain)} visible pass fraction, mean of ${heavy.hybridRuns}`],
        ...verdictFigures(heavy),
      ];
      const width = Math.max(...figures.map(([label]) => label.length));
      lines.push(`heavy mode${title}: ${heavy.experiments} problems with drafts, ${heavy.meanDrafts.toFixed(1)} drafts each`, ...figures.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`));
    }
    return lines;
  });
  return blocks.length ? `\n${blocks.join("\n")}\n` : "";
}

/** The same two by the scorer's verdict on every draft (HumanEval: hidden tests), when the drafts were scored. */
function verdictFigures(heavy: HeavyModeFigures): [string, string][] {
  if (heavy.verdictsMeasured === 0) return [];
  return [
    ["  by the final verdict", `${formatPercent(heavy.verdictBestOfKBeatsFirstRate! * 100)} of ${heavy.verdictsMeasured}: some draft passes where the first fails`],
    ["  hybrid's gain by it", heavy.verdictHybridGain === null ? "no hybrid ran" : `${signed(heavy.verdictHybridGain)} verdicts (1 pass, 0 fail) over the best draft's`],
  ];
}

function figure(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}
