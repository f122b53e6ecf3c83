/**
 * A small seeded pseudo-random generator, so that training, simulation and sampled
 * inference replay exactly from a seed (Math.random cannot be seeded).
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: 32-bit state, fast, and good enough for simulation and sampling. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal() {
      const u = 1 - next(); // in (0, 1], so the log is finite
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    int(n) {
      return Math.floor(next() * n);
    },
  };
}

/**
 * A seed for one purpose derived from a base seed, e.g. deriveSeed(seed, "task", 17):
 * independent streams for independent things, so drawing more numbers for one (say,
 * a longer episode) never shifts another (the next task).
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let hash = fnv1a32(String(seed >>> 0));
  for (const part of parts) hash = fnv1a32(String(part), hash ^ 0x9e3779b9);
  // Murmur3 finaliser: spreads the bits so nearby inputs give unrelated seeds.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** FNV-1a, 32 bits, over the UTF-16 code units of a string. Also the feature hasher. */
export function fnv1a32(text: string, basis = 0x811c9dc5): number {
  let hash = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Index drawn from a discrete distribution (probabilities summing to ~1). */
export function sampleIndex(probabilities: ArrayLike<number>, rng: Prng): number {
  const u = rng.next();
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p <= 0) continue;
    last = i;
    cumulative += p;
    if (u < cumulative) return i;
  }
  return last; // rounding left u above the total: take the last possible index
}
