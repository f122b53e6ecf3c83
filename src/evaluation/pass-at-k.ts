/**
 * The unbiased pass@k estimator of the HumanEval paper: with n samples of which c are correct,
 * pass@k = 1 - C(n-c, k) / C(n, k). Binomials overflow quickly, so this uses the same product
 * form as the reference code: 1 - prod_{i=n-c+1..n} (1 - k / i).
 */
export function estimatePassAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 0 || c < 0 || c > n || k < 1) {
    throw new RangeError(`pass@k needs integers 0 <= c <= n and k >= 1 (got n=${n}, c=${c}, k=${k})`);
  }
  // Every size-k draw then holds a correct sample. Same test as the reference (`n - c < k`), so like it
  // this also answers 1 for k > n; passAtK never asks for such a k.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

export interface TaskTally {
  /** Samples evaluated for the task. */
  total: number;
  /** Of those, how many passed. */
  correct: number;
}

/**
 * pass@k averaged over tasks, for each k that every task has enough samples for: as the reference
 * harness does, a k larger than some task's sample count is left out rather than estimated.
 * Keys read "pass@1", "pass@10", ... in the order of `ks`.
 */
export function passAtK(tallies: readonly TaskTally[], ks: readonly number[]): Record<string, number> {
  const result: Record<string, number> = {};
  if (tallies.length === 0) return result;
  for (const k of ks) {
    if (!tallies.every((t) => t.total >= k)) continue;
    const sum = tallies.reduce((acc, t) => acc + estimatePassAtK(t.total, t.correct, k), 0);
    result[`pass@${k}`] = sum / tallies.length;
  }
  return result;
}

/** The k of pass@k reported when none are asked for, as the reference harness reports. */
export const DEFAULT_KS = [1, 10, 100];
