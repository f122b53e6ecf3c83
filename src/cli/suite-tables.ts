import { recommendRoles } from "../report/rubric-roles.js";
import { groupTotals, type ExperimentRecord, type GroupTotals } from "../store/index.js";
import { formatCount, formatDollars, formatPercent, renderTable } from "./table.js";

/**
 * What `benchmark` and `results show` print for a suite run, per arm: figures per category, per
 * tier, and, when a rubric scored the cases, the coding roles the model's tier means allow.
 * Prints nothing for a run whose problems have no tiers and a single category (plain HumanEval).
 */
export function renderSuiteFigures(experiments: readonly ExperimentRecord[], model: string | undefined): string {
  const arms = [...new Set(experiments.map((e) => e.arm))];
  const blocks: string[] = [];
  for (const arm of arms) {
    const ofArm = experiments.filter((e) => e.arm === arm);
    const categories = groupTotals(ofArm, "category");
    const tiers = groupTotals(ofArm, "tier");
    if (categories.length <= 1 && tiers.length === 0) continue;
    const title = arms.length > 1 ? ` (${arm})` : "";
    blocks.push(`by category${title}\n${groupTable("category", categories)}`);
    if (tiers.length) blocks.push(`by tier${title}\n${groupTable("tier", tiers)}`);
    // The roles read the coder rubric plan's tier thresholds: they mean something only when every
    // case was scored by a rubric (not, say, a mixed suite whose agentic cases score a tool trace).
    if (ofArm.every(rubricScored) && tiers.some((tier) => tier.meanScore !== null)) blocks.push(rolesLine(tiers, model, title));
  }
  return blocks.length ? `\n${blocks.join("\n")}` : "";
}

function groupTable(key: string, groups: readonly GroupTotals[]): string {
  return renderTable(
    [key, "problems", "solved", "success", "mean score", "cost"],
    groups.map((g) => [g.name, formatCount(g.totalProblems), formatCount(g.successes), formatPercent(g.successRate * 100), g.meanScore === null ? "-" : `${g.meanScore.toFixed(2)}/5`, g.totalCost === null ? "n/a" : formatDollars(g.totalCost)]),
    ["left", "right", "right", "right", "right", "right"],
  );
}

function rubricScored(experiment: ExperimentRecord): boolean {
  return experiment.scoreCriteria?.some((criterion) => RUBRIC_KINDS.has(criterion.by)) ?? false;
}

/** How a rubric decides a criterion (src/evaluation/scorers/rubric.ts); tool-trace's are "end-state" and "trace". */
const RUBRIC_KINDS = new Set(["check", "program", "judge"]);

function rolesLine(tiers: readonly GroupTotals[], model: string | undefined, title: string): string {
  const { recommended, shortfalls } = recommendRoles(tiers);
  const missed = Object.entries(shortfalls).map(([role, why]) => `${role}: ${why}`);
  return `role${title} for ${model ?? "the model under test"}: ${recommended}${missed.length ? ` (not met: ${missed.join("; ")})` : ""}\n`;
}
