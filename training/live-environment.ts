import { allowedAgentChoices, type Action, type Agent, type AgentChoice, type Mode } from "../policy/actions.js";
import { observe, type Observation } from "../policy/observation.js";
import { publicView, type PublicTask, type Task } from "../tasks/task.js";
import type { AgentStepReport, Environment, StepResult } from "./environment.js";
import { EpisodeNumbers, type EpisodeStream } from "./episode-numbers.js";
import { episodeInProgress, newEpisodeRecord, stepEpisode, type EpisodeRecord } from "./episode-steps.js";
import { DEFAULT_REWARD_CONFIG, type RewardConfig } from "./rewards.js";

/**
 * LiveEnvironment: real agents, models and sandbox, one agent per decision, so a Stop
 * really saves what the rest of a pipeline would have cost.
 *
 * It drives the orchestrator through LiveEpisodeRunner, the one thing it needs from
 * src/orchestrator: start an episode of a task in a mode, run one named agent on the
 * episode's state (the sandbox re-checks the visible examples whenever code changes), and
 * grade the best candidate against the hidden tests at the end. The orchestrator owns
 * everything behind it (models per agent, the mode's reasoning depth and token budget,
 * the plan, the tests, which candidate is best).
 *
 * With a ladder (the runner's episodes have rungs), Escalate is allowed after any step while a
 * rung is left, and each rung gets its mode's step budget afresh.
 *
 * Rewards are training/rewards.ts's. There is no oracle live (nobody knows what the other
 * modes would have done), so episodes carry no regret; judge a live-trained policy on
 * replays or held-out benchmark runs.
 */
export interface LiveEpisodeRunner {
  start(task: Task, mode: Mode): Promise<LiveEpisode>;
  /** The modes an episode may start in (a ladder of modes: its rungs); every mode when unset. */
  readonly startModes?: readonly Mode[];
}

export interface LiveEpisode {
  /** Runs one agent; returns what that step measured and spent. */
  run(agent: Agent): Promise<AgentStepReport>;
  /** Hidden-test verdict of the candidate the episode would hand in now. */
  finish(): Promise<{ success: boolean }>;
  /** What the mode's fixed pipeline would run next (the always-<mode> baselines follow it). */
  pipelineAgent?(): AgentChoice;
  /** With a ladder: the rung the episode is on, how many there are, and how to climb one (keeping the work; it runs the new rung's first agent). */
  readonly rung?: number;
  readonly rungs?: number;
  escalate?(): Promise<{ mode: Mode; agent: Agent; report: AgentStepReport }>;
}


/** Episode e plays task e mod n. */
export interface LiveEnvironmentOptions extends EpisodeStream {
  tasks: readonly Task[];
  runner: LiveEpisodeRunner;
  rewards?: RewardConfig;
}

export class LiveEnvironment implements Environment {
  readonly source = "live" as const;
  private readonly rewards: RewardConfig;
  private readonly episodes: EpisodeNumbers;
  private current: (EpisodeRecord & { task: Task; view: PublicTask; episode: LiveEpisode | null; rungStartedAtStep: number }) | null = null;

  constructor(private readonly options: LiveEnvironmentOptions) {
    if (options.tasks.length === 0) throw new Error("a live environment needs at least one task");
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.episodes = new EpisodeNumbers(options);
  }

  async reset(): Promise<Observation> {
    const task = this.options.tasks[this.episodes.take() % this.options.tasks.length]!;
    // The policy sees the public parts only: never the hidden tests or the reference solution.
    const view = publicView(task);
    this.current = { task, view, episode: null, rungStartedAtStep: 0, ...newEpisodeRecord(task.id) };
    const observation = observe(view);
    const startModes = this.options.runner.startModes;
    return startModes ? { ...observation, allowed: { kind: "mode", modes: startModes } } : observation;
  }

  async step(action: Action): Promise<StepResult> {
    const current = episodeInProgress(this.current, "LiveEnvironment");
    return stepEpisode(current, action, {
      source: this.source,
      rewards: this.rewards,
      assertAllowed: (agent) => {
        if (!this.allowedNow().includes(agent)) throw new Error(`${agent} is not allowed in ${current.state.mode} mode after ${current.state.steps} steps`);
      },
      outOfSteps: () => this.allowedNow().length === 0,
      start: async (mode) => {
        current.episode = await this.options.runner.start(current.task, mode);
        const { rung, rungs } = current.episode;
        return rung !== undefined && rungs !== undefined ? { rung, rungs } : undefined;
      },
      escalate: async () => {
        current.rungStartedAtStep = current.state.steps;
        return current.episode!.escalate!();
      },
      // stepEpisode starts the episode before anything runs or finishes, so current.episode is set here.
      run: (agent) => current.episode!.run(agent),
      finish: async () => (await current.episode!.finish()).success,
      observe: () => this.observation(),
    });
  }

  /** The mode's agents and Stop while the rung's step budget lasts, and Escalate while a rung is left. */
  private allowedNow(): AgentChoice[] {
    const current = this.current!;
    const { mode, steps, rung, rungs } = current.state;
    const onRung = allowedAgentChoices(mode!, steps - current.rungStartedAtStep);
    if (rung >= rungs - 1) return onRung;
    return [...(onRung.length ? onRung : (["Stop"] as const)), "Escalate"];
  }

  private observation(): Observation {
    const current = this.current!;
    if (current.done) return { task: current.view, episode: current.state, allowed: { kind: "agent", agents: [] } };
    const agents = this.allowedNow();
    const next = current.episode?.pipelineAgent?.();
    return { task: current.view, episode: current.state, allowed: { kind: "agent", agents, ...(next && agents.includes(next) ? { pipelineAgent: next } : {}) } };
  }
}
