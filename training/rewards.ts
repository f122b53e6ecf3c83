/**
 * Rewards and regret, the same for every environment.
 *
 *   step reward  = progressWeight · (visible pass fraction after − before)   (progress)
 *                − costPerUsd · dollars                                    (cost penalty, when prices are known)
 *                  or − λ · tokens / 1000                                  (when no price is known)
 *   final reward = successBonus when the hidden tests pass at the end       (success bonus)
 *
 * In the spirit of "reward = correctness + coverage − 0.001 per 1000 tokens". Progress
 * rewards give the agent head credit along the way (MRT-style dense rewards) instead of
 * only at the end; they telescope, so an episode's progress total is the final visible
 * pass fraction and cannot be farmed by going up and down.
 *
 * Regret of an episode = the oracle's return − the achieved return. Cumulative regret over
 * training is the objective: a learner whose regret stops growing has stopped losing.
 */
export interface RewardConfig {
  progressWeight: number;
  successBonus: number;
  /** λ: reward lost per 1000 tokens; used only when costPerUsd is not set (no prices known). */
  lambdaPer1000Tokens: number;
  /**
   * Reward lost per US dollar spent. When set, the cost penalty counts dollars, not tokens:
   * a model 60× cheaper per token must not look dearer because it writes more.
   */
  costPerUsd?: number;
}

export const DEFAULT_REWARD_CONFIG: Readonly<RewardConfig> = {
  progressWeight: 1,
  successBonus: 1,
  lambdaPer1000Tokens: 0.001,
};

/**
 * The default reward lost per US dollar where prices are known: $0.10 costs a tenth of a
 * solved task. (Per-token λ = 0.001 / 1000 tokens would be ~$1 per solve at Kimi K2 prices.)
 */
export const DEFAULT_COST_PER_USD = 1;

export function progressReward(visibleBefore: number, visibleAfter: number, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return config.progressWeight * (visibleAfter - visibleBefore);
}

export function costPenalty(tokens: number, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return (config.lambdaPer1000Tokens * tokens) / 1000;
}

/** The cost penalty of a step: dollars when the config prices them, else tokens. */
export function stepCostPenalty(spent: { tokens: number; costUsd: number }, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return config.costPerUsd === undefined ? costPenalty(spent.tokens, config) : config.costPerUsd * spent.costUsd;
}

/** What the cost weight counts, for tables: "$" or "1000 tokens". */
export function costUnitOf(config: RewardConfig): "usd" | "tokens" {
  return config.costPerUsd === undefined ? "tokens" : "usd";
}

export interface StepOutcome {
  visibleBefore: number;
  visibleAfter: number;
  tokens: number;
}

export function stepReward(step: StepOutcome, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return progressReward(step.visibleBefore, step.visibleAfter, config) - costPenalty(step.tokens, config);
}

export function successBonus(success: boolean, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return success ? config.successBonus : 0;
}

export function episodeRegret(oracleReturn: number, achievedReturn: number): number {
  return oracleReturn - achievedReturn;
}

/** Accumulates regret episode by episode, keeping the per-episode series for growth rates. */
export class RegretTracker {
  private readonly perEpisode: number[] = [];
  private total = 0;

  /** Records one episode and returns the cumulative regret so far. */
  record(oracleReturn: number, achievedReturn: number): number {
    const regret = episodeRegret(oracleReturn, achievedReturn);
    this.perEpisode.push(regret);
    this.total += regret;
    return this.total;
  }

  get cumulative(): number {
    return this.total;
  }

  get episodes(): number {
    return this.perEpisode.length;
  }

  get series(): readonly number[] {
    return this.perEpisode;
  }
}

export interface RegretGrowth {
  /** Mean regret per episode (the slope of cumulative regret) over the first tenth of episodes. */
  firstTenthRate: number;
  lastTenthRate: number;
  /** last / first: under 0.2 means regret grows at under a fifth of its early rate. */
  ratio: number;
}

export function regretGrowth(perEpisodeRegret: readonly number[]): RegretGrowth {
  const tenth = Math.max(1, Math.floor(perEpisodeRegret.length / 10));
  const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const firstTenthRate = mean(perEpisodeRegret.slice(0, tenth));
  const lastTenthRate = mean(perEpisodeRegret.slice(-tenth));
  return { firstTenthRate, lastTenthRate, ratio: firstTenthRate === 0 ? NaN : lastTenthRate / firstTenthRate };
}
