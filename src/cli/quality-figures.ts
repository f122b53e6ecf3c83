import { codeQuality, DRAFTING_MODES, heavyModeFigures, type CodeQuality, type ExperimentRecord, type HeavyModeFigures, type RunRecord, type Store } from "../store/index.js";
import { formatPercent } from "./table.js";

/** Per arm: the final code's quality and, for runs that sample drafts, what the K drafts bought. */
export interface ArmQuality {
  arm: string;
  code_quality?: CodeQuality;
  heavy_mode?: HeavyModeFigures;
}

export function armQuality(store: Store, run: RunRecord, experiments: readonly ExperimentRecord[] = store.experiments(run.runId)): ArmQuality[] {
  const arms = [...new Set(experiments.map((e) => e.arm))];
  return arms.flatMap((arm) => {
    const ofArm = experiments.filter((e) => e.arm === arm);
    const quality = codeQuality(ofArm);
    const heavy = DRAFTING_MODES.has(run.mode) ? heavyModeFigures(ofArm, (id) => store.steps(id)) : undefined;
    return quality || heavy ? [{ arm, ...(quality ? { code_quality: quality } : {}), ...(heavy ? { heavy_mode: heavy } : {}) }] : [];
  });
}

/** What `results show` prints under its tables; nothing for a run with neither. */
export function renderQualityFigures(arms: readonly ArmQuality[]): string {
  const blocks = arms.flatMap(({ arm, code_quality: quality, heavy_mode: heavy }) => {
    const title = arms.length > 1 ? ` (${arm})` : "";
    const lines: string[] = [];
    if (quality) {
      lines.push(
        `code quality${title}: ${quality.measured} final programs measured; ` +
          `cyclomatic complexity ${figure(quality.mean_cyclomatic_complexity)} mean (solved ${figure(quality.solved_mean_cyclomatic_complexity)}), ` +
          `maintainability index ${figure(quality.mean_maintainability_index)}/100 mean (solved ${figure(quality.solved_mean_maintainability_index)})`,
      );
    }
    if (heavy) {
      const behaviour =
        heavy.mean_behaviour_agreement === null
          ? "not measured"
          : `${heavy.mean_behaviour_agreement.toFixed(2)} mean agreement over ${heavy.behaviour_measured}; the same outputs in ${formatPercent(heavy.behaviour_convergence_rate!)}`;
      const figures: [string, string][] = [
        ["drafts' code similarity", `${heavy.mean_code_similarity.toFixed(2)} mean; the same code in ${formatPercent(heavy.code_convergence_rate)}`],
        ["drafts' behaviour on generated inputs", behaviour],
        ["best of K beats the first draft", `${heavy.best_of_k_beats_first_rate === null ? "-" : formatPercent(heavy.best_of_k_beats_first_rate)} (visible pass fraction)`],
        ["hybrid gain over the best draft", heavy.mean_hybrid_gain === null ? "no hybrid ran" : `${signed(heavy.mean_hybrid_gain)} visible pass fraction, mean of ${heavy.hybrid_runs}`],
        ...verdictFigures(heavy),
      ];
      const width = Math.max(...figures.map(([label]) => label.length));
      lines.push(`heavy mode${title}: ${heavy.experiments} problems with drafts, ${heavy.mean_drafts.toFixed(1)} drafts each`, ...figures.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`));
    }
    return lines;
  });
  return blocks.length ? `\n${blocks.join("\n")}\n` : "";
}

/** The same two by the scorer's verdict on every draft (HumanEval: hidden tests), when the drafts were scored. */
function verdictFigures(heavy: HeavyModeFigures): [string, string][] {
  if (heavy.verdicts_measured === 0) return [];
  return [
    ["  by the final verdict", `${formatPercent(heavy.verdict_best_of_k_beats_first_rate!)} of ${heavy.verdicts_measured}: some draft passes where the first fails`],
    ["  hybrid's gain by it", heavy.verdict_hybrid_gain === null ? "no hybrid ran" : `${signed(heavy.verdict_hybrid_gain)} verdicts (1 pass, 0 fail) over the best draft's`],
  ];
}

function figure(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}
