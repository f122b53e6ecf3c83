/**
 * Paired statistics for comparing two runs on the same problems. Each problem gives a pair
 * (baseline solved?, candidate solved?); only the pairs that disagree carry evidence.
 */

export interface PairedOutcome {
  baseline: boolean;
  candidate: boolean;
}

export interface PairedCounts {
  /** Candidate solved, baseline did not (McNemar's c). */
  wins: number;
  /** Baseline solved, candidate did not (McNemar's b). */
  losses: number;
  /** Both solved or both failed. */
  ties: number;
  bothSolved: number;
  bothFailed: number;
}

export function pairedCounts(pairs: readonly PairedOutcome[]): PairedCounts {
  const counts: PairedCounts = { wins: 0, losses: 0, ties: 0, bothSolved: 0, bothFailed: 0 };
  for (const { baseline, candidate } of pairs) {
    if (candidate && !baseline) counts.wins++;
    else if (baseline && !candidate) counts.losses++;
    else if (baseline) counts.bothSolved++;
    else counts.bothFailed++;
  }
  counts.ties = counts.bothSolved + counts.bothFailed;
  return counts;
}

/**
 * McNemar's exact test, two-sided: under "no difference" each of the n = b + c discordant
 * pairs favours either run with probability 1/2, so p = min(1, 2·P(X ≤ min(b, c))) with
 * X ~ Binomial(n, 1/2); p = 1 when there are no discordant pairs.
 *
 * The tail is summed exactly in BigInt (binomial coefficients overflow doubles near n = 1030)
 * and only the final ratio becomes a float.
 */
export function mcnemarExactP(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`McNemar counts must be non-negative integers, got b=${b}, c=${c}`);
  }
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let coefficient = 1n; // C(n, 0)
  let tail = 1n;
  for (let i = 1; i <= k; i++) {
    coefficient = (coefficient * BigInt(n - i + 1)) / BigInt(i);
    tail += coefficient;
  }
  // tail / 2^n without overflowing: drop low bits beyond 2^1000 first (p that small is 0 anyway).
  const shift = Math.max(0, n - 1000);
  const oneSided = Number(tail >> BigInt(shift)) / 2 ** (n - shift);
  return Math.min(1, 2 * oneSided);
}

/** mulberry32: a small, fast, seedable PRNG, so a bootstrap gives the same interval every time. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  resamples?: number;
  /** Two-sided coverage, 0.95 for a 95 % interval. */
  confidence?: number;
  seed?: number;
}

export interface Interval {
  /** Candidate success rate minus baseline success rate, as a fraction (0.1 = 10 points). */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;
/** Fixed so the same comparison prints the same interval on every machine and every run. */
export const DEFAULT_BOOTSTRAP_SEED = 20_240_617;

/**
 * Paired bootstrap percentile interval for the success-rate difference: resample problems
 * (keeping each problem's pair together) with replacement, take the difference of the two
 * success rates in each resample, and report the (1−confidence)/2 and (1+confidence)/2
 * quantiles. With no problems the interval is [0, 0].
 */
export function pairedBootstrapInterval(pairs: readonly PairedOutcome[], options: BootstrapOptions = {}): Interval {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1, got ${confidence}`);
  const n = pairs.length;
  if (n === 0) return { estimate: 0, lower: 0, upper: 0, confidence, resamples };

  // Per problem: +1 candidate-only success, −1 baseline-only, 0 tie. The mean is the difference.
  const deltas = Int8Array.from(pairs, ({ baseline, candidate }) => Number(candidate) - Number(baseline));
  const estimate = deltas.reduce((total, d) => total + d, 0) / n;
  const random = seededRandom(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const differences = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += deltas[Math.floor(random() * n)]!;
    differences[r] = total / n;
  }
  differences.sort();
  const alpha = (1 - confidence) / 2;
  return {
    estimate,
    lower: quantile(differences, alpha),
    upper: quantile(differences, 1 - alpha),
    confidence,
    resamples,
  };
}

/** Linear interpolation between order statistics (the default of R's type 7 and numpy). */
function quantile(sorted: Float64Array, probability: number): number {
  const position = (sorted.length - 1) * probability;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}
