import { MODES, type Action, type Mode } from "../policy/actions.js";
import type { Observation } from "../policy/observation.js";
import { createPrng, deriveSeed } from "../policy/prng.js";
import type { Environment, OracleOutcome, StepResult } from "./environment.js";
import { EpisodeNumbers, type EpisodeStream } from "./episode-numbers.js";
import { episodeInProgress, newEpisodeRecord, stepEpisode, type EpisodeRecord } from "./episode-steps.js";
import type { ReplayConfiguration, ReplayLog, ReplayTask } from "./replay-log.js";
import { costPenalty, DEFAULT_REWARD_CONFIG, progressReward, successBonus, type RewardConfig } from "./rewards.js";

/**
 * ReplayEnvironment: plays back logged runs, so the policy learns from runs already paid for.
 *
 * - reset(): the next task of the log (episode e plays task e mod n). For every mode with
 *   logs on that task, one of its configurations is drawn (seeded), and only those modes
 *   are allowed.
 * - The mode decision selects that mode's drawn configuration.
 * - Agent decisions can only continue the logged run or stop: allowed = { the logged next
 *   agent, Stop }. Continuing replays the step: progress from its logged visible pass
 *   fraction, its logged tokens and dollars. The episode ends when the log does; its
 *   success is the logged verdict.
 * - Stopping early keeps the logged verdict only when the code at that point is the
 *   final code (hasFinalCode); otherwise the outcome is unknown and counted as a failure,
 *   the cautious reading.
 * - Oracle: the best return in hindsight over the drawn configurations and every stopping
 *   point (including stopping at once, return 0).
 */
export interface ReplayEnvironmentOptions extends EpisodeStream {
  log: ReplayLog;
  seed: number;
  rewards?: RewardConfig;
}

export class ReplayEnvironment implements Environment {
  readonly source = "replay" as const;
  private readonly rewards: RewardConfig;
  private readonly episodes: EpisodeNumbers;
  private current:
    | (EpisodeRecord & {
        task: ReplayTask;
        drawn: Partial<Record<Mode, ReplayConfiguration>>;
        configuration: ReplayConfiguration | null;
        /** How many logged steps have been replayed. */
        position: number;
      })
    | null = null;

  constructor(private readonly options: ReplayEnvironmentOptions) {
    if (options.log.length === 0) throw new Error("a replay environment needs at least one logged task");
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.episodes = new EpisodeNumbers(options);
  }

  async reset(): Promise<Observation> {
    const episode = this.episodes.take();
    const task = this.options.log[episode % this.options.log.length]!;
    const rng = createPrng(deriveSeed(this.options.seed, "replay-draw", episode));
    const drawn: Partial<Record<Mode, ReplayConfiguration>> = {};
    for (const mode of MODES) {
      const candidates = task.configurations.filter((c) => c.mode === mode);
      if (candidates.length) drawn[mode] = candidates[rng.int(candidates.length)];
    }
    this.current = { task, drawn, configuration: null, position: 0, ...newEpisodeRecord(task.task.id) };
    return { task: task.task, episode: this.current.state, allowed: { kind: "mode", modes: MODES.filter((m) => drawn[m]) } };
  }

  async step(action: Action): Promise<StepResult> {
    const episode = episodeInProgress(this.current, "ReplayEnvironment");
    // stepEpisode starts the episode before anything runs or finishes, so the configuration is set by then.
    const configuration = (): ReplayConfiguration => episode.configuration!;
    return stepEpisode(episode, action, {
      source: this.source,
      rewards: this.rewards,
      start: (mode) => {
        const drawnForMode = episode.drawn[mode];
        if (!drawnForMode) throw new Error(`no logged ${mode} run for ${episode.task.task.id}`);
        episode.configuration = drawnForMode;
      },
      assertAllowed: (agent) => {
        if (agent === "Stop") return;
        const logged = configuration().steps[episode.position]!;
        if (agent !== logged.agent) throw new Error(`the replay can only continue with ${logged.agent} or Stop, not ${agent}`);
      },
      run: () => {
        const logged = configuration().steps[episode.position]!;
        episode.position++;
        return logged;
      },
      outOfSteps: () => episode.position >= configuration().steps.length,
      finish: () => keepsVerdict(configuration(), episode.position) && configuration().success,
      oracle: () => replayOracle(episode.drawn, this.rewards),
      observe: () => this.observation(),
    });
  }

  private observation(): Observation {
    const episode = this.current!;
    const next = episode.configuration?.steps[episode.position];
    if (episode.done || !next) return { task: episode.task.task, episode: episode.state, allowed: { kind: "agent", agents: [] } };
    return { task: episode.task.task, episode: episode.state, allowed: { kind: "agent", agents: [next.agent, "Stop"], pipelineAgent: next.agent } };
  }
}

/** `count` replay environments that together play episodes 0, 1, 2, ... of the log. */
export function createReplayEnvironments(count: number, log: ReplayLog, seed: number, rewards?: RewardConfig): ReplayEnvironment[] {
  return Array.from({ length: count }, (_, slot) => new ReplayEnvironment({ log, seed, rewards, firstEpisode: slot, stride: count }));
}

/** Whether stopping after `position` logged steps keeps the configuration's verdict. */
function keepsVerdict(configuration: ReplayConfiguration, position: number): boolean {
  return position > 0 && configuration.steps[position - 1]!.hasFinalCode;
}

/** The best return in hindsight over the drawn configurations and all stopping points. */
export function replayOracle(drawn: Partial<Record<Mode, ReplayConfiguration>>, rewards: RewardConfig = DEFAULT_REWARD_CONFIG): OracleOutcome {
  const candidates: OracleOutcome[] = [];
  for (const mode of MODES) {
    const configuration = drawn[mode];
    if (!configuration) continue;
    let running = 0;
    let visible = 0;
    let tokens = 0;
    let costUsd = 0;
    for (let position = 0; position <= configuration.steps.length; position++) {
      if (position > 0) {
        const step = configuration.steps[position - 1]!;
        const after = step.visiblePassFraction ?? visible;
        running += progressReward(visible, after, rewards) - costPenalty(step.tokens, rewards);
        visible = after;
        tokens += step.tokens;
        costUsd += step.costUsd;
      }
      const success = keepsVerdict(configuration, position) && configuration.success;
      candidates.push({
        return: running + successBonus(success, rewards),
        success: success ? 1 : 0,
        tokens,
        costUsd,
        mode,
        agents: configuration.steps.slice(0, position).map((s) => s.agent),
      });
    }
  }
  if (candidates.length === 0) throw new Error("replayOracle needs at least one configuration");
  return candidates.reduce((best, candidate) => (candidate.return > best.return ? candidate : best));
}
