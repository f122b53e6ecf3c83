import { createPrng } from "../policy/prng.js";
import type { EpisodeOutcome } from "./environment.js";
import type { PlayedEpisodes } from "./compare-controllers.js";

/**
 * The held-out table of a replay: every controller's episodes on held-out tasks, pooled over
 * several seeds (each seed its own split by task and its own training run), with 95 %
 * intervals, in the terms a user pays in: success, dollars per task, dollars per solved task,
 * and both as a share of the dearest fixed arm's. One held-out split of ~30 tasks swings
 * several points per task; pooling seeds and printing the interval says how sure a row is.
 */
export interface Interval {
  mean: number;
  low: number;
  high: number;
}

export interface PooledRow {
  name: string;
  episodes: number;
  success: Interval;
  /** Mean cost per task: dollars, or tokens when the table counts tokens. */
  costPerTask: Interval;
  /** Total cost / tasks solved; null when nothing was solved. */
  costPerSolved: number | null;
  /** Success and cost as fractions of the dearest fixed arm's (null when that is 0). */
  successOfDearest: number | null;
  costOfDearest: number | null;
  /** Σ (oracle return − return) over the pooled episodes; null without an oracle row. */
  cumulativeRegret: number | null;
  /** Mean escalations per episode. */
  escalations: number;
}

export interface PooledTable {
  seeds: number[];
  /** Held-out episodes per controller, over all seeds. */
  episodes: number;
  /** What cost columns count: dollars, or tokens when no price is known. */
  costUnit: "usd" | "tokens";
  /** The name of the fixed arm with the highest cost per task (the reference of the % columns). */
  dearest: string | null;
  rows: PooledRow[];
  /** Plain sentences: the target, and whether the hand cascade beats the learned policy. */
  verdicts: string[];
  /** The least share of the dearest arm's cost that buys 95 % of its success in hindsight (the oracle's cheapest solves); null when out of reach or without an oracle. */
  reach?: number | null;
}

/** One seed's played episodes, to be pooled. */
export type SeedEpisodes = PlayedEpisodes;

const RESAMPLES = 2000;

export function poolHeldOut(seeds: readonly number[], perSeed: readonly SeedEpisodes[], costUnit: "usd" | "tokens"): PooledTable {
  const names = perSeed[0]?.byController.map((c) => c.name) ?? [];
  const pooled = new Map<string, EpisodeOutcome[]>(names.map((name) => [name, []]));
  const oracle: EpisodeOutcome[] = [];
  let withOracle = true;
  for (const played of perSeed) {
    for (const { name, outcomes } of played.byController) pooled.get(name)?.push(...outcomes);
    if (played.oracle) oracle.push(...played.oracle);
    else withOracle = false;
  }
  const entries: [string, EpisodeOutcome[]][] = [...pooled.entries()];
  if (withOracle && oracle.length) entries.push(["oracle", oracle]);

  const cost = (o: EpisodeOutcome): number => (costUnit === "usd" ? o.costUsd : o.tokens);
  const fixed = entries.filter(([name]) => name.startsWith("always-"));
  const dearest = fixed.length ? fixed.reduce((a, b) => (mean(b[1].map(cost)) > mean(a[1].map(cost)) ? b : a)) : null;
  const dearestSuccess = dearest ? mean(dearest[1].map(solved)) : 0;
  const dearestCost = dearest ? mean(dearest[1].map(cost)) : 0;

  const rows = entries.map(([name, outcomes], index): PooledRow => {
    const successes = outcomes.map(solved);
    const costs = outcomes.map(cost);
    const totalSolved = successes.reduce((a, b) => a + b, 0);
    const totalCost = costs.reduce((a, b) => a + b, 0);
    const regret = withOracle && name !== "oracle" ? outcomes.reduce((sum, o) => sum + (o.oracle?.return ?? 0) - o.return, 0) : withOracle ? 0 : null;
    return {
      name,
      episodes: outcomes.length,
      success: bootstrapMean(successes, index + 1),
      costPerTask: bootstrapMean(costs, index + 101),
      costPerSolved: totalSolved > 0 ? totalCost / totalSolved : null,
      successOfDearest: dearestSuccess > 0 ? mean(successes) / dearestSuccess : null,
      costOfDearest: dearestCost > 0 ? mean(costs) / dearestCost : null,
      cumulativeRegret: regret,
      escalations: mean(outcomes.map((o) => o.escalations ?? 0)),
    };
  });
  const reach = withOracle && oracle.length && dearest ? cheapestReach(oracle, dearestSuccess, dearestCost, cost) : null;
  return { seeds: [...seeds], episodes: entries[0]?.[1].length ?? 0, costUnit, dearest: dearest?.[0] ?? null, rows, verdicts: verdicts(rows, dearest?.[0] ?? null, reach), reach };
}

/**
 * The least any controller could pay, as a share of the dearest arm's cost, for TARGET_SUCCESS
 * of its success on these episodes: solve, in hindsight, the tasks the oracle solves most
 * cheaply and stop at once on the rest. null when even the oracle solves too few. A target
 * below this is out of reach on the ladder, whatever the controller.
 */
function cheapestReach(oracle: readonly EpisodeOutcome[], dearestSuccess: number, dearestCost: number, cost: (o: EpisodeOutcome) => number): number | null {
  const needed = Math.ceil(TARGET_SUCCESS * dearestSuccess * oracle.length - 1e-9);
  const costs = oracle.filter((o) => o.success).map(cost).sort((a, b) => a - b);
  if (costs.length < needed || dearestCost <= 0) return null;
  return costs.slice(0, needed).reduce((a, b) => a + b, 0) / oracle.length / dearestCost;
}

/** The target: at least this share of the dearest arm's success at at most TARGET_COST of its cost. */
export const TARGET_SUCCESS = 0.95;
export const TARGET_COST = 0.25;

/** Whether a row meets the target. */
export function meetsTarget(row: PooledRow): boolean {
  return row.successOfDearest !== null && row.costOfDearest !== null && row.successOfDearest >= TARGET_SUCCESS && row.costOfDearest <= TARGET_COST;
}

/** The rule rows (the hand cascades a user could write) that dominate `row`: at least its success at no more cost, better in one. */
export function dominatingCascades(rows: readonly PooledRow[], row: PooledRow): PooledRow[] {
  return rows.filter(
    (other) =>
      other !== row &&
      other.name.startsWith("cascade") &&
      other.success.mean >= row.success.mean &&
      other.costPerTask.mean <= row.costPerTask.mean &&
      (other.success.mean > row.success.mean || other.costPerTask.mean < row.costPerTask.mean),
  );
}

/** The target (≥ 95 % of the dearest arm's success at ≤ 25 % of its cost) and the cascade check, said plainly. */
function verdicts(rows: readonly PooledRow[], dearest: string | null, reach: number | null | undefined): string[] {
  const learned = rows.find((row) => row.name === "learned");
  const cascade = rows.find((row) => row.name === "cascade" || row.name === "cascade(0,visible)");
  const chosen = rows.find((row) => row.name === "chosen");
  const lines: string[] = [];
  if (chosen && dearest && chosen.successOfDearest !== null && chosen.costOfDearest !== null) {
    const dominators = dominatingCascades(rows, chosen);
    lines.push(
      `chosen: ${pct(chosen.successOfDearest)} of ${dearest}'s success at ${pct(chosen.costOfDearest)} of its cost ` +
        `(target >= 95% at <= 25%, never dominated by a hand cascade): ${meetsTarget(chosen) && dominators.length === 0 ? "met" : "NOT met"}` +
        (dominators.length ? `; dominated by ${dominators.map((row) => row.name).join(", ")}` : "; no hand cascade dominates it"),
    );
  }
  if (learned && dearest && learned.successOfDearest !== null && learned.costOfDearest !== null) {
    const met = learned.successOfDearest >= 0.95 && learned.costOfDearest <= 0.25;
    lines.push(
      `learned: ${pct(learned.successOfDearest)} of ${dearest}'s success at ${pct(learned.costOfDearest)} of its cost ` +
        `(target >= 95% at <= 25%): ${met ? "met" : "NOT met"}`,
    );
  }
  if (learned && cascade) {
    const atLeastAsGood = cascade.success.mean >= learned.success.mean && cascade.costPerTask.mean <= learned.costPerTask.mean;
    const strictly = cascade.success.mean > learned.success.mean || cascade.costPerTask.mean < learned.costPerTask.mean;
    lines.push(
      atLeastAsGood && strictly
        ? `the learned policy does NOT beat the hand cascade on this data: the cascade has at least its success (${pct(cascade.success.mean)} vs ${pct(learned.success.mean)}) at no more cost per task`
        : `the hand cascade does not beat the learned policy in both success and cost (cascade ${pct(cascade.success.mean)} success, learned ${pct(learned.success.mean)})`,
    );
  }
  if (reach !== undefined && dearest) {
    lines.push(
      reach === null
        ? `reach: even in hindsight (the oracle) no controller keeps 95% of ${dearest}'s success here: the target is out of reach on this ladder`
        : `reach: in hindsight (the oracle's cheapest solves) 95% of ${dearest}'s success costs at least ${pct(reach)} of its cost: ` +
            (reach > 0.25 ? "the target is out of reach on this ladder, whatever the controller" : "the target is within reach"),
    );
  }
  return lines;
}

/** The pooled table as fixed-width text. */
export function formatPooledTable(table: PooledTable, title: string): string {
  const unit = table.costUnit === "usd" ? "$" : "tokens";
  const money = (value: number): string => (table.costUnit === "usd" ? value.toFixed(5) : Math.round(value).toString());
  const header = ["controller", "success (95% CI)", `${unit}/task (95% CI)`, `${unit}/solved`, "% dearest success", "% dearest cost", "cum. regret", "escal./task"];
  const body = table.rows.map((row) => [
    row.name,
    `${pct(row.success.mean)} [${pct(row.success.low)}, ${pct(row.success.high)}]`,
    `${money(row.costPerTask.mean)} [${money(row.costPerTask.low)}, ${money(row.costPerTask.high)}]`,
    row.costPerSolved === null ? "-" : money(row.costPerSolved),
    row.successOfDearest === null ? "-" : pct(row.successOfDearest),
    row.costOfDearest === null ? "-" : pct(row.costOfDearest),
    row.cumulativeRegret === null ? "-" : row.cumulativeRegret.toFixed(2),
    row.escalations.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const costNote =
    table.costUnit === "usd" ? "costs in US dollars as logged" : "costs in TOKENS: no price is known for these runs, so rewards and columns count tokens, not dollars";
  return [
    `${title}: ${table.episodes} held-out episodes per controller, pooled over seeds ${table.seeds.join(", ")} (each its own split by task); ${costNote}`,
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...body.map(line),
    ...(table.dearest ? [`% columns are relative to ${table.dearest}, the dearest fixed arm`] : []),
    ...table.verdicts,
  ].join("\n");
}

/** Percentile bootstrap of the mean (fixed seed, so a table reproduces). */
export function bootstrapMean(values: readonly number[], seed: number): Interval {
  const m = mean(values);
  if (values.length < 2) return { mean: m, low: m, high: m };
  const rng = createPrng(seed);
  const means = new Float64Array(RESAMPLES);
  for (let r = 0; r < RESAMPLES; r++) {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[rng.int(values.length)]!;
    means[r] = sum / values.length;
  }
  means.sort();
  return { mean: m, low: means[Math.floor(0.025 * RESAMPLES)]!, high: means[Math.ceil(0.975 * RESAMPLES) - 1]! };
}

function solved(outcome: EpisodeOutcome): number {
  return outcome.success ? 1 : 0;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function pct(value: number): string {
  return `${(100 * value).toFixed(1)}%`;
}
