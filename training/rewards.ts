/**
 * Rewards and regret, the same for every environment.
 *
 *   step reward  = progressWeight · (visible pass fraction after − before)   (progress)
 *                − λ · tokens / 1000                                       (cost penalty)
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
  /** λ: reward lost per 1000 tokens. */
  lambdaPer1000Tokens: number;
}

export const DEFAULT_REWARD_CONFIG: Readonly<RewardConfig> = {
  progressWeight: 1,
  successBonus: 1,
  lambdaPer1000Tokens: 0.001,
};

export function progressReward(visibleBefore: number, visibleAfter: number, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return config.progressWeight * (visibleAfter - visibleBefore);
}

export function costPenalty(tokens: number, config: RewardConfig = DEFAULT_REWARD_CONFIG): number {
  return (config.lambdaPer1000Tokens * tokens) / 1000;
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
