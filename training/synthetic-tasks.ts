import type { PublicTask } from "../tasks/task.js";
import { createPrng, deriveSeed, type Prng } from "../policy/prng.js";

/**
 * SYNTHETIC tasks for the simulator: each has a latent difficulty in [0, 1) that the
 * simulator uses and the policy never sees. The policy sees only a HumanEval-shaped
 * prompt whose observable traits follow the difficulty with noise, so features are
 * informative but imperfect (as with real tasks):
 *   - specification words ≈ 20 + 120·d (± 10, normal noise),
 *   - each word is a "hard" word (recursion, intervals, ...) with probability 0.1 + 0.5·d,
 *   - parameters ≈ 1 + ⌊2.5·d + U(0,1)⌋ (1 to 4),
 *   - docstring examples ≈ 4 − 2·d (± 0.8), 1 to 6.
 * Ids are "synthetic/<n>" so nothing downstream can mistake them for real problems.
 */
export interface SyntheticTask {
  task: PublicTask;
  /** Latent difficulty in [0, 1): known to the simulator and its oracle only. */
  difficulty: number;
}

const COMMON_WORDS = [
  "return", "the", "given", "list", "of", "numbers", "string", "if", "is", "and", "each", "element",
  "that", "value", "input", "output", "integer", "count", "sum", "first", "last", "all", "a", "an",
  "with", "in", "to", "for", "characters", "words", "positive", "even", "odd", "sorted", "order",
];

const HARD_WORDS = [
  "recursive", "nested", "permutations", "overlapping", "intervals", "palindromic", "subsequence",
  "balanced", "modulo", "prime", "factorization", "dynamic", "memoize", "lexicographic", "graph",
  "shortest", "bitwise", "carry", "unicode", "edge",
];

const PARAMETER_TYPES = ["int", "List[int]", "str", "float"] as const;

export function generateSyntheticTask(seed: number, index: number): SyntheticTask {
  const rng = createPrng(deriveSeed(seed, "synthetic-task", index));
  const difficulty = rng.next();
  const name = `synthetic_task_${index}`;

  const parameterCount = Math.min(4, 1 + Math.floor(2.5 * difficulty + rng.next()));
  const parameters = Array.from({ length: parameterCount }, (_, i) => `${"abcd"[i]}: ${PARAMETER_TYPES[rng.int(PARAMETER_TYPES.length)]}`);
  const wordCount = Math.max(8, Math.round(20 + 120 * difficulty + 10 * rng.normal()));
  const hardProbability = 0.1 + 0.5 * difficulty;
  const words = Array.from({ length: wordCount }, () => pick(rng.next() < hardProbability ? HARD_WORDS : COMMON_WORDS, rng));
  const exampleCount = clamp(Math.round(4 - 2 * difficulty + 0.8 * rng.normal()), 1, 6);
  const visibleExamples = Array.from({ length: exampleCount }, (_, i) => ({
    call: `${name}(${Array.from({ length: parameterCount }, (_, p) => i + p).join(", ")})`,
    expected: String(i),
  }));

  const lines: string[] = [];
  if (parameters.some((p) => p.includes("List"))) lines.push("from typing import List", "", "");
  lines.push(`def ${name}(${parameters.join(", ")}) -> int:`);
  lines.push(`    """ ${wrap(words, 10).join("\n    ")}`);
  for (const example of visibleExamples) lines.push(`    >>> ${example.call}`, `    ${example.expected}`);
  lines.push(`    """`, "");

  return { task: { id: `synthetic/${index}`, prompt: lines.join("\n"), entryPoint: name, visibleExamples }, difficulty };
}

function pick<T>(items: readonly T[], rng: Prng): T {
  return items[rng.int(items.length)]!;
}

function wrap(words: string[], perLine: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += perLine) lines.push(words.slice(i, i + perLine).join(" "));
  return lines;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
