import { z } from "zod";
import { parseOptions } from "./parse.js";
import { withStore } from "./results-actions.js";
import { formatDollars, formatPercent, renderTable } from "./table.js";
import { costCell, tokensCell } from "./results-actions.js";
import { compareDocument, compareRuns, gateFailures, type Comparison } from "../report/compare.js";

/**
 * A rate typed by a person: "0.8" and "80" and "80%" all mean 80 %. A number of 1 or less
 * without "%" is a fraction (so "1" is 100 %); above 1, or with "%", it is a percent.
 */
export const SuccessRate = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?%?$/, "a rate such as 0.8, 80 or 80%")
  .transform((text) => {
    const value = Number.parseFloat(text);
    return text.endsWith("%") || value > 1 ? value / 100 : value;
  })
  .refine((fraction) => fraction <= 1, "a rate is at most 100%");

const CompareOptions = z.object({
  arm: z.string().min(1).optional(),
  json: z.boolean().default(false),
  failBelow: SuccessRate.optional(),
  failOnRegression: z.boolean().default(false),
  list: z.enum(["won", "lost", "differ"]).optional(),
  db: z.string().min(1).optional(),
});

/** `koderz compare`, once its flags are parsed: exit 1 when a gate fails. */
export function compareAction(references: string[], raw: unknown): void {
  const options = parseOptions(CompareOptions, raw);
  const comparison = withStore(options.db, (store) => compareRuns(store, references, { arm: options.arm }));
  const failures = gateFailures(comparison, { failBelow: options.failBelow, failOnRegression: options.failOnRegression });
  if (options.json) {
    process.stdout.write(JSON.stringify(compareDocument(comparison, { failBelow: options.failBelow, failOnRegression: options.failOnRegression, failures }), null, 2) + "\n");
  } else if (options.list) {
    process.stdout.write(renderProblemList(comparison, options.list));
  } else {
    process.stdout.write(renderComparison(comparison));
  }
  for (const failure of failures) process.stderr.write(`gate failed: ${failure}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

/** `--list won|lost|differ`: the problems, one per line under each pair, so a script can read them. */
export function renderProblemList(comparison: Comparison, which: "won" | "lost" | "differ"): string {
  return comparison.pairs
    .map((pair) => {
      const problems = pair.problems[which];
      const heading = `${which} by ${pair.candidate} against ${pair.baseline}: ${problems.length}`;
      return [heading, ...problems.map((problem) => `  ${problem}`)].join("\n") + "\n";
    })
    .join("");
}

export function renderComparison(comparison: Comparison): string {
  const header =
    `compared on ${comparison.sharedProblems.length} problems; baseline ${comparison.runs[0]!.label}` +
    (comparison.ordering === "stage" ? " (ordered by stage: baseline first, then by start time)\n" : " (the first run given)\n");
  const note = comparison.note ? `note: ${comparison.note}\n` : "";
  const runs = renderTable(
    ["run", "mode", "model(s)", "stage", "solved", "success", "tokens in/out", "cost", "cost/solved"],
    comparison.runs.map((run) => [
      run.label,
      run.mode,
      run.models.join(", ") || "-",
      run.stage ?? "",
      `${run.successes}/${run.problems}`,
      formatPercent(run.successRate * 100),
      tokensCell(run.inputTokens, run.outputTokens),
      costCell(run.costUsd),
      run.costPerSolved === null ? "-" : formatDollars(run.costPerSolved),
    ]),
    ["left", "left", "left", "left", "right", "right", "right", "right", "right"],
  );
  if (comparison.pairs.length === 0) return header + note + "\n" + runs;
  return header + note + "\n" + runs + "\n" + renderPairs(comparison) + renderCategoryTallies(comparison);
}

/** Each run against the baseline: wins, losses, ties, the difference with its interval, McNemar's p. */
export function renderPairs(comparison: Comparison): string {
  return renderTable(
    ["against baseline", "wins", "losses", "ties", "Δ success", "95% CI (bootstrap)", "McNemar p"],
    comparison.pairs.map((pair) => [
      pair.candidate,
      String(pair.wins),
      String(pair.losses),
      String(pair.ties),
      signedPoints(pair.successRateDifference),
      `[${signedPoints(pair.interval.lower)}, ${signedPoints(pair.interval.upper)}]`,
      formatP(pair.mcnemarP),
    ]),
    ["left", "right", "right", "right", "right", "right", "right"],
  );
}

/** Wins, losses and ties per category, for runs over suites with several categories. */
function renderCategoryTallies(comparison: Comparison): string {
  const rows = comparison.pairs.flatMap((pair) => (pair.byCategory ?? []).map((c) => [pair.candidate, c.category, String(c.wins), String(c.losses), String(c.ties)]));
  if (rows.length === 0) return "";
  return "\nper category\n" + renderTable(["against baseline", "category", "wins", "losses", "ties"], rows, ["left", "left", "right", "right", "right"]);
}

function signedPoints(fraction: number): string {
  const points = fraction * 100;
  // -0.0 would read as a loss.
  const rounded = Math.abs(points) < 0.05 ? 0 : points;
  return `${rounded > 0 ? "+" : ""}${rounded.toFixed(1)} pts`;
}

function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}
