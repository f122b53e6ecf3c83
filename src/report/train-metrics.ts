import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { KoderzError } from "../errors.js";

/**
 * The train-meta curves of the report, read from the metrics JSONL that `koderz train-meta`
 * writes (training/metrics.ts). Only "episode" lines are charted; "update" and "comparison"
 * lines are skipped. Each line is validated on its own so an error names file and line.
 *
 * The schema lists just the fields the report reads (extra fields are allowed), so training can
 * add to its lines without breaking reports of older or newer logs.
 */
const EpisodeLine = z.object({
  type: z.literal("episode"),
  /** "synthetic" for the simulator: the report says so, so no one takes it for a model's result. */
  env: z.string().optional(),
  episode: z.number().int().nonnegative(),
  mode: z.string().min(1),
  return: z.number(),
  success: z.boolean(),
  costUsd: z.number().nonnegative(),
  cumulativeRegret: z.number().nullable(),
});
type EpisodeLine = z.infer<typeof EpisodeLine>;

const AnyLine = z.object({ type: z.string() });

const Interval = z.object({ mean: z.number(), low: z.number(), high: z.number() });
/** A replay's held-out table pooled over seeds, and its quality-cost curve (the last such line of a file). */
const HeldOutLine = z.object({
  type: z.literal("held-out-table"),
  seeds: z.array(z.number()),
  episodes: z.number().int().nonnegative(),
  costUnit: z.enum(["usd", "tokens"]),
  dearest: z.string().nullable(),
  rows: z.array(
    z.object({
      name: z.string(),
      success: Interval,
      costPerTask: Interval,
      costPerSolved: z.number().nullable(),
      successOfDearest: z.number().nullable(),
      costOfDearest: z.number().nullable(),
      cumulativeRegret: z.number().nullable(),
    }),
  ),
  verdicts: z.array(z.string()),
  curve: z.array(z.object({ costWeight: z.number(), success: z.number(), costPerTask: z.number() })).optional(),
});
export type HeldOutTable = z.infer<typeof HeldOutLine>;

export interface Series {
  x: number[];
  y: number[];
}

export interface TrainingCurves {
  /** The metrics file's name. */
  name: string;
  /** Where the episodes came from (synthetic, replay, live), when every line agrees. */
  env: string | null;
  episodes: number;
  /** Percent over all episodes. */
  successRate: number;
  /** Episodes in the trailing moving average of the return curve. */
  returnWindow: number;
  meanReturn: Series;
  /** null when the log has no oracle, so no regret. */
  cumulativeRegret: Series | null;
  modeMix: { x: number[]; modes: string[]; /** percent, shares[mode][bucket] */ shares: number[][] };
  /** A replay study's pooled held-out table and quality-cost curve, when the file has one. */
  heldOut: HeldOutTable | null;
}

/** A curve keeps at most this many points: thousands of episodes would only slow the page. */
export const MAX_CURVE_POINTS = 400;
const MODE_MIX_BUCKETS = 50;
/** A mode-mix bucket holds at least this many episodes, or its shares are mostly noise. */
const MIN_EPISODES_PER_BUCKET = 20;
/** The moving average spans this fraction of the run: enough to see the trend through the noise. */
const RETURN_WINDOW_FRACTION = 1 / 20;
const KNOWN_MODE_ORDER = ["fast", "standard", "deep"];

export function readTrainingCurves(file: string): TrainingCurves {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new KoderzError("not_found", `cannot read metrics file ${file}`, "pass the metrics JSONL `koderz train-meta` wrote");
  }
  return trainingCurves(path.basename(file), parseEpisodeLines(text, file), parseHeldOutTable(text, file));
}

/** The last "held-out-table" line of a metrics file, validated; null when there is none. */
export function parseHeldOutTable(text: string, file: string): HeldOutTable | null {
  let table: HeldOutTable | null = null;
  text.split("\n").forEach((line, index) => {
    if (!line.includes('"held-out-table"')) return;
    const parsed = HeldOutLine.safeParse(JSON.parse(line));
    if (!parsed.success) throw badLine(`${file}:${index + 1}`, `held-out table: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
    table = parsed.data;
  });
  return table;
}

export function parseEpisodeLines(text: string, file: string): EpisodeLine[] {
  const episodes: EpisodeLine[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `${file}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw badLine(where, "not JSON");
    }
    const kind = AnyLine.safeParse(value);
    if (!kind.success) throw badLine(where, "not an object with a string `type`");
    if (kind.data.type !== "episode") return;
    const episode = EpisodeLine.safeParse(value);
    if (!episode.success) {
      const issue = episode.error.issues[0]!;
      throw badLine(where, `${issue.path.join(".") || "line"}: ${issue.message}`);
    }
    episodes.push(episode.data);
  });
  if (episodes.length === 0) {
    throw new KoderzError("bad_input", `${file} has no episode lines`, "pass the metrics JSONL `koderz train-meta` wrote while training");
  }
  return episodes.sort((a, b) => a.episode - b.episode);
}

export function trainingCurves(name: string, episodes: readonly EpisodeLine[], heldOut: HeldOutTable | null = null): TrainingCurves {
  const n = episodes.length;
  const x = episodes.map((e) => e.episode);
  const window = Math.max(1, Math.round(n * RETURN_WINDOW_FRACTION));
  const envs = new Set(episodes.map((e) => e.env ?? null));
  const regretPoints = episodes.filter((e) => e.cumulativeRegret !== null);
  return {
    name,
    env: envs.size === 1 ? [...envs][0]! : null,
    episodes: n,
    successRate: (episodes.filter((e) => e.success).length / n) * 100,
    returnWindow: window,
    meanReturn: thin({ x, y: movingAverage(episodes.map((e) => e.return), window) }),
    cumulativeRegret:
      regretPoints.length === 0 ? null : thin({ x: regretPoints.map((e) => e.episode), y: regretPoints.map((e) => e.cumulativeRegret!) }),
    modeMix: modeMix(episodes),
    heldOut,
  };
}

/** Mean of each value and the window − 1 before it (fewer at the start). */
function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let total = 0;
  values.forEach((value, i) => {
    total += value;
    if (i >= window) total -= values[i - window]!;
    out.push(total / Math.min(i + 1, window));
  });
  return out;
}

/** Evenly spaced points of a long series, always keeping the last. */
function thin(series: Series): Series {
  const n = series.x.length;
  if (n <= MAX_CURVE_POINTS) return series;
  const picks = Array.from({ length: MAX_CURVE_POINTS }, (_, i) => Math.round((i * (n - 1)) / (MAX_CURVE_POINTS - 1)));
  return { x: picks.map((i) => series.x[i]!), y: picks.map((i) => series.y[i]!) };
}

/** The share of each mode in consecutive buckets of episodes; x is a bucket's last episode. */
function modeMix(episodes: readonly EpisodeLine[]): TrainingCurves["modeMix"] {
  const seen = new Set(episodes.map((e) => e.mode));
  const modes = [...KNOWN_MODE_ORDER.filter((m) => seen.has(m)), ...[...seen].filter((m) => !KNOWN_MODE_ORDER.includes(m)).sort()];
  const buckets = Math.max(1, Math.min(MODE_MIX_BUCKETS, Math.floor(episodes.length / MIN_EPISODES_PER_BUCKET)));
  const x: number[] = [];
  const shares = modes.map(() => [] as number[]);
  for (let b = 0; b < buckets; b++) {
    const slice = episodes.slice(Math.floor((b * episodes.length) / buckets), Math.floor(((b + 1) * episodes.length) / buckets));
    x.push(slice[slice.length - 1]!.episode);
    modes.forEach((mode, m) => shares[m]!.push((slice.filter((e) => e.mode === mode).length / slice.length) * 100));
  }
  return { x, modes, shares };
}

function badLine(where: string, problem: string): KoderzError {
  return new KoderzError("bad_input", `${where}: ${problem}`, "each line must be a metrics object as `koderz train-meta` writes them");
}
