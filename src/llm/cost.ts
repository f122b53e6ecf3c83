import type { TokenUsage } from "./types.js";

/** Dollars per one million tokens, as providers publish them. */
export interface TokenPrices {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * What a call cost. Unknown prices (a hosted model koderz has no price for) count as 0 here;
 * the registry marks such models so the CLI can say their cost is not counted.
 */
export function costUsd(usage: TokenUsage, prices: TokenPrices | undefined): number {
  if (!prices) return 0;
  return (usage.input * prices.inputPerMillion + usage.output * prices.outputPerMillion) / 1_000_000;
}
