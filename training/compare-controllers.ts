import { MODES, type Mode } from "../policy/actions.js";
import type { Controller } from "./controllers.js";
import type { EnvironmentSource, EpisodeOutcome, Environment } from "./environment.js";
import { actionsOnly, playEpisodes } from "./rollout.js";

/**
 * Judges controllers on the same episodes: each gets a fresh batch of environments that
 * replays the same tasks (and, in the simulator, the same luck), so differences are the
 * controllers', not the draw's.
 */
export interface ControllerRow {
  name: string;
  episodes: number;
  successRate: number;
  meanTokens: number;
  meanCostUsd: number;
  meanReturn: number;
  /** Mean return / the oracle's mean return; null without an oracle (live). */
  fractionOfOracle: number | null;
  /** Σ (oracle return − return) over the episodes; null without an oracle. */
  cumulativeRegret: number | null;
  modeMix: Record<Mode, number>;
}

export interface ControllerComparison {
  source: EnvironmentSource;
  episodes: number;
  rows: ControllerRow[];
}

/** Every controller's episodes on the same held-out episodes, and the oracle's when the environment knows it. */
export interface PlayedEpisodes {
  source: EnvironmentSource;
  byController: { name: string; outcomes: EpisodeOutcome[] }[];
  /** The oracle's outcome of each episode (in the first controller's order); null without an oracle. */
  oracle: EpisodeOutcome[] | null;
}

/** Plays `rounds` batches per controller on fresh environments that replay the same episodes. */
export async function playControllers(controllers: readonly Controller[], makeEnvironments: () => Environment[], rounds: number): Promise<PlayedEpisodes> {
  let source: EnvironmentSource = "synthetic";
  const byController: PlayedEpisodes["byController"] = [];
  for (const controller of controllers) {
    const environments = makeEnvironments();
    source = environments[0]!.source;
    const outcomes: EpisodeOutcome[] = [];
    for (let round = 0; round < rounds; round++) {
      const traces = await playEpisodes(environments, actionsOnly((o) => controller.act(o)));
      outcomes.push(...traces.map((trace) => trace.outcome));
    }
    byController.push({ name: controller.name, outcomes });
  }
  const first = byController[0]?.outcomes;
  const oracle = first && first.every((o) => o.oracle) ? first.map(oracleOutcome) : null;
  return { source, byController, oracle };
}

/**
 * An episode as the oracle would have played it. Its success is a probability in the
 * simulator (rounded here; compareControllers keeps the probability) and 0 or 1 in a replay.
 */
function oracleOutcome(outcome: EpisodeOutcome): EpisodeOutcome {
  const { mode, agents, tokens, costUsd, return: oracleReturn, success } = outcome.oracle!;
  return { ...outcome, mode, agents, tokens, costUsd, return: oracleReturn, success: success >= 0.5, escalations: 0 };
}

/** Plays `rounds` batches per controller and adds an "oracle" row when the environment knows one. */
export async function compareControllers(
  controllers: readonly Controller[],
  makeEnvironments: () => Environment[],
  rounds: number,
): Promise<ControllerComparison> {
  const played = await playControllers(controllers, makeEnvironments, rounds);
  const rows = played.byController.map(({ name, outcomes }) => summarise(name, outcomes));
  if (played.oracle) {
    rows.push(summarise("oracle", played.oracle, played.byController[0]!.outcomes.map((o) => o.oracle!.success)));
  }
  return { source: played.source, episodes: played.byController[0]?.outcomes.length ?? 0, rows };
}

/** Summary figures of a set of episodes. `successValues` overrides success (the oracle's is a probability). */
export function summarise(name: string, outcomes: readonly EpisodeOutcome[], successValues?: readonly number[]): ControllerRow {
  const n = Math.max(1, outcomes.length);
  const sum = (f: (o: EpisodeOutcome, i: number) => number): number => outcomes.reduce((total, o, i) => total + f(o, i), 0);
  const withOracle = outcomes.every((o) => o.oracle);
  const oracleReturn = withOracle ? sum((o) => o.oracle!.return) : 0;
  const modeMix = Object.fromEntries(MODES.map((mode) => [mode, sum((o) => (o.mode === mode ? 1 : 0)) / n])) as Record<Mode, number>;
  return {
    name,
    episodes: outcomes.length,
    successRate: sum((o, i) => successValues?.[i] ?? (o.success ? 1 : 0)) / n,
    meanTokens: sum((o) => o.tokens) / n,
    meanCostUsd: sum((o) => o.costUsd) / n,
    meanReturn: sum((o) => o.return) / n,
    fractionOfOracle: withOracle && oracleReturn !== 0 ? sum((o) => o.return) / oracleReturn : null,
    cumulativeRegret: withOracle ? oracleReturn - sum((o) => o.return) : null,
    modeMix,
  };
}

/** The best fixed-mode row (always-fast / standard / deep) by mean return. */
export function bestFixedMode(comparison: ControllerComparison): ControllerRow {
  const fixed = comparison.rows.filter((row) => row.name.startsWith("always-"));
  return fixed.reduce((best, row) => (row.meanReturn > best.meanReturn ? row : best));
}

/** The comparison as a fixed-width text table, titled with where the episodes came from. */
export function formatComparison(comparison: ControllerComparison): string {
  const title =
    comparison.source === "synthetic"
      ? `SYNTHETIC environment (simulator, not model results): ${comparison.episodes} held-out episodes`
      : `${comparison.source} environment: ${comparison.episodes} held-out episodes`;
  const header = ["controller", "success", "tokens", "cost $", "return", "% oracle", "cum. regret", "modes f/s/d"];
  const body = comparison.rows.map((row) => [
    row.name,
    `${(100 * row.successRate).toFixed(1)}%`,
    Math.round(row.meanTokens).toString(),
    row.meanCostUsd.toFixed(4),
    row.meanReturn.toFixed(3),
    row.fractionOfOracle === null ? "-" : `${(100 * row.fractionOfOracle).toFixed(1)}%`,
    row.cumulativeRegret === null ? "-" : row.cumulativeRegret.toFixed(1),
    MODES.map((mode) => Math.round(100 * row.modeMix[mode])).join("/"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
