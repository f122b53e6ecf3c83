import { MODES, type Action, type AgentChoice, type Mode } from "../policy/actions.js";
import type { LadderCosts } from "../policy/features.js";
import type { Observation } from "../policy/observation.js";
import { createPrng, deriveSeed } from "../policy/prng.js";
import type { Environment, OracleOutcome, StepResult } from "./environment.js";
import { EpisodeNumbers, type EpisodeStream } from "./episode-numbers.js";
import { episodeInProgress, newEpisodeRecord, stepEpisode, type EpisodeRecord } from "./episode-steps.js";
import type { ReplayConfiguration, ReplayLog, ReplayStep, ReplayTask } from "./replay-log.js";
import { DEFAULT_REWARD_CONFIG, progressReward, stepCostPenalty, successBonus, type RewardConfig } from "./rewards.js";

/**
 * ReplayEnvironment: plays back logged runs, so the policy learns from runs already paid for.
 * The logged arms of a task are the rungs of an escalation ladder, cheapest first by logged
 * cost (replayLadder), as a cascade would try them.
 *
 * - reset(): the next task of the log (episode e plays task e mod n). For every mode with
 *   logs on that task, one of its configurations is drawn (seeded), and only those modes
 *   are allowed, listed cheapest first.
 * - The mode decision picks the rung to start on (that mode's drawn configuration).
 * - Agent decisions: continue the logged run of the current rung (its next logged agent),
 *   Escalate to the next dearer rung with logs, or Stop. Continuing replays the step:
 *   progress from its logged visible pass fraction (the docstring examples, stored at
 *   import), its logged tokens and dollars. Escalate moves up and replays that rung's first
 *   step, so the policy sees a cheap attempt's visible result before paying for a dear one.
 *   When the current rung's log is over, only Escalate or Stop remain; the episode ends when
 *   nothing remains.
 * - Stop keeps the current rung's code and its logged verdict, but only when the code at
 *   that point is the rung's final code (hasFinalCode); otherwise the outcome is unknown and
 *   counted as a failure, the cautious reading. The hidden-test verdict is only ever the
 *   episode's outcome: nothing of it reaches the observation.
 * - Oracle: the best return in hindsight over the drawn configurations and every stopping
 *   point (including stopping at once, return 0). Climbing the ladder never beats starting
 *   on the rung one ends on (progress telescopes, costs add up), so the oracle need not climb.
 */
export interface ReplayEnvironmentOptions extends EpisodeStream {
  log: ReplayLog;
  seed: number;
  rewards?: RewardConfig;
  /** The rungs, cheapest first; default replayLadder(log). */
  ladder?: readonly Mode[];
  /** Each rung's mean cost (the ladder's price list, in the ladder's order), which the ladder features read; default replayLadderCosts(log, ladder). */
  ladderCosts?: LadderCosts;
}

export class ReplayEnvironment implements Environment {
  readonly source = "replay" as const;
  private readonly rewards: RewardConfig;
  private readonly episodes: EpisodeNumbers;
  private readonly ladder: readonly Mode[];
  private readonly ladderCosts: LadderCosts;
  private current:
    | (EpisodeRecord & {
        task: ReplayTask;
        drawn: Partial<Record<Mode, ReplayConfiguration>>;
        /** The task's rungs: the ladder's modes with a drawn configuration. */
        rungs: Mode[];
        rung: number;
        configuration: ReplayConfiguration | null;
        /** How many logged steps of the current rung have been replayed. */
        position: number;
      })
    | null = null;

  constructor(private readonly options: ReplayEnvironmentOptions) {
    if (options.log.length === 0) throw new Error("a replay environment needs at least one logged task");
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.episodes = new EpisodeNumbers(options);
    this.ladder = options.ladder ?? replayLadder(options.log);
    this.ladderCosts = options.ladderCosts ?? replayLadderCosts(options.log, this.ladder);
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
    const rungs = this.ladder.filter((mode) => drawn[mode]);
    const record = newEpisodeRecord(task.task.id);
    // The price list of the task's rungs: what a user knows of the ladder before anything runs.
    const perRung = rungs.map((mode) => this.ladderCosts.perRung[this.ladder.indexOf(mode)] ?? 0);
    record.state = { ...record.state, ladderCosts: { perRung, unit: this.ladderCosts.unit } };
    this.current = { task, drawn, rungs, rung: 0, configuration: null, position: 0, ...record };
    return { task: task.task, episode: this.current.state, allowed: { kind: "mode", modes: rungs } };
  }

  async step(action: Action): Promise<StepResult> {
    const episode = episodeInProgress(this.current, "ReplayEnvironment");
    // stepEpisode starts the episode before anything runs or finishes, so the configuration is set by then.
    const configuration = (): ReplayConfiguration => episode.configuration!;
    const canEscalate = (): boolean => episode.rung < episode.rungs.length - 1;
    const nextLogged = (): ReplayStep | undefined => configuration().steps[episode.position];
    const replayNext = (): ReplayStep => {
      const logged = nextLogged()!;
      episode.position++;
      return logged;
    };
    return stepEpisode(episode, action, {
      source: this.source,
      rewards: this.rewards,
      start: (mode) => {
        const drawnForMode = episode.drawn[mode];
        if (!drawnForMode) throw new Error(`no logged ${mode} run for ${episode.task.task.id}`);
        episode.configuration = drawnForMode;
        episode.rung = episode.rungs.indexOf(mode);
        return { rung: episode.rung, rungs: episode.rungs.length };
      },
      assertAllowed: (agent) => {
        if (agent === "Stop") return;
        if (agent === "Escalate") {
          if (!canEscalate()) throw new Error(`no dearer rung than ${episode.rungs[episode.rung]} is logged for ${episode.task.task.id}`);
          return;
        }
        const logged = nextLogged();
        const others = canEscalate() ? "Escalate or Stop" : "Stop";
        if (!logged) throw new Error(`the logged ${episode.rungs[episode.rung]} run has ended: only ${others}, not ${agent}`);
        if (agent !== logged.agent) throw new Error(`the replay can only continue with ${logged.agent} or ${others}, not ${agent}`);
      },
      run: () => replayNext(),
      escalate: () => {
        episode.rung++;
        const mode = episode.rungs[episode.rung]!;
        episode.configuration = episode.drawn[mode]!;
        episode.position = 0;
        const logged = replayNext();
        return { mode, agent: logged.agent, report: logged };
      },
      outOfSteps: () => episode.position >= configuration().steps.length && !canEscalate(),
      finish: () => keepsVerdict(configuration(), episode.position) && configuration().success,
      oracle: () => replayOracle(episode.drawn, this.rewards),
      observe: () => this.observation(),
    });
  }

  private observation(): Observation {
    const episode = this.current!;
    const next = episode.configuration?.steps[episode.position];
    const canEscalate = episode.rung < episode.rungs.length - 1;
    if (episode.done) return { task: episode.task.task, episode: episode.state, allowed: { kind: "agent", agents: [] } };
    const agents: AgentChoice[] = [...(next ? [next.agent] : []), ...(canEscalate ? (["Escalate"] as const) : []), "Stop"];
    return { task: episode.task.task, episode: episode.state, allowed: { kind: "agent", agents, ...(next ? { pipelineAgent: next.agent } : {}) } };
  }
}

/**
 * The rungs of a replay, cheapest first: the logged modes ordered by their mean logged cost
 * per configuration (dollars; tokens when no dollars are logged), ties in MODES order.
 */
export function replayLadder(log: ReplayLog): Mode[] {
  const totals = new Map<Mode, { usd: number; tokens: number; count: number }>();
  for (const task of log) {
    for (const configuration of task.configurations) {
      const total = totals.get(configuration.mode) ?? { usd: 0, tokens: 0, count: 0 };
      for (const step of configuration.steps) {
        total.usd += step.costUsd;
        total.tokens += step.tokens;
      }
      total.count++;
      totals.set(configuration.mode, total);
    }
  }
  const priced = [...totals.values()].some((total) => total.usd > 0);
  const meanCost = (mode: Mode): number => {
    const total = totals.get(mode)!;
    return (priced ? total.usd : total.tokens) / total.count;
  };
  return MODES.filter((mode) => totals.has(mode)).sort((a, b) => meanCost(a) - meanCost(b) || MODES.indexOf(a) - MODES.indexOf(b));
}

/** Each rung's mean logged cost per configuration, in the ladder's order: dollars, or tokens when no dollars are logged. */
export function replayLadderCosts(log: ReplayLog, ladder: readonly Mode[]): LadderCosts {
  const unit = replayLogHasPrices(log) ? "usd" : "tokens";
  const perRung = ladder.map((mode) => {
    const configurations = log.flatMap((task) => task.configurations.filter((c) => c.mode === mode));
    const total = configurations.reduce((sum, c) => sum + c.steps.reduce((s, step) => s + (unit === "usd" ? step.costUsd : step.tokens), 0), 0);
    return configurations.length ? total / configurations.length : 0;
  });
  return { perRung, unit };
}

/** Whether a log carries dollar costs (else rewards and tables can only count tokens). */
export function replayLogHasPrices(log: ReplayLog): boolean {
  return log.some((task) => task.configurations.some((configuration) => configuration.steps.some((step) => step.costUsd > 0)));
}

/** `count` replay environments that together play episodes 0, 1, 2, ... of the log. */
export function createReplayEnvironments(count: number, log: ReplayLog, seed: number, rewards?: RewardConfig, ladder?: readonly Mode[], ladderCosts?: LadderCosts): ReplayEnvironment[] {
  return Array.from({ length: count }, (_, slot) => new ReplayEnvironment({ log, seed, rewards, ladder, ladderCosts, firstEpisode: slot, stride: count }));
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
        running += progressReward(visible, after, rewards) - stepCostPenalty(step, rewards);
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
