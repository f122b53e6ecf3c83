/** Limits on one experiment; any limit left undefined is unlimited. */
export interface Budget {
  maxSteps?: number;
  maxTokens?: number;
  maxUsd?: number;
  maxSeconds?: number;
}

export interface Spend {
  steps: number;
  tokens: number;
  usd: number;
  seconds: number;
}

/** Which limit is used up, in words a trace can show, or undefined while there is room. */
export function exhaustedLimit(budget: Budget, spend: Spend): string | undefined {
  if (budget.maxSteps !== undefined && spend.steps >= budget.maxSteps) return `step budget (${budget.maxSteps})`;
  if (budget.maxTokens !== undefined && spend.tokens >= budget.maxTokens) return `token budget (${budget.maxTokens})`;
  if (budget.maxUsd !== undefined && spend.usd >= budget.maxUsd) return `dollar budget ($${budget.maxUsd})`;
  if (budget.maxSeconds !== undefined && spend.seconds >= budget.maxSeconds) return `time budget (${budget.maxSeconds} s)`;
  return undefined;
}
