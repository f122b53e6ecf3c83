import { allowedAgentChoices, type Action, type Agent, type AgentChoice, type Mode } from "../policy/actions.js";
import { initialEpisodeState, type EpisodeState, type TaskInput } from "../policy/features.js";
import { observe, type Observation } from "../policy/observation.js";
import type { Task } from "../tasks/task.js";
import { advanceEpisodeState, type Environment, type StepResult } from "./environment.js";
import { costPenalty, DEFAULT_REWARD_CONFIG, progressReward, successBonus, type RewardConfig } from "./rewards.js";

/**
 * LiveEnvironment: real agents, models and sandbox, one agent per decision, so a Stop
 * really saves what the rest of a pipeline would have cost.
 *
 * It drives the orchestrator through LiveEpisodeRunner, the one thing it needs from
 * src/orchestrator: start an episode of a task in a mode, run one named agent on the
 * episode's state (the sandbox re-checks the visible examples whenever code changes), and
 * grade the best candidate against the hidden tests at the end. The orchestrator owns
 * everything behind it (models per role, the mode's reasoning depth and token budget,
 * the plan, the tests, which candidate is best).
 *
 * Rewards are training/rewards.ts's. There is no oracle live (nobody knows what the other
 * modes would have done), so episodes carry no regret; judge a live-trained policy on
 * replays or held-out benchmark runs.
 */
export interface LiveEpisodeRunner {
  start(task: Task, mode: Mode): Promise<LiveEpisode>;
}

export interface LiveEpisode {
  /** Runs one agent; returns what that step measured and spent. */
  run(agent: Agent): Promise<LiveStepReport>;
  /** Hidden-test verdict of the candidate the episode would hand in now. */
  finish(): Promise<{ success: boolean }>;
  /** What the mode's fixed pipeline would run next (the always-<mode> baselines follow it). */
  pipelineAgent?(): AgentChoice;
}

export interface LiveStepReport {
  /** The visible pass fraction after the step, when it ran the visible examples. */
  visiblePassFraction?: number;
  tokens: number;
  costUsd: number;
}

export interface LiveEnvironmentOptions {
  tasks: readonly Task[];
  runner: LiveEpisodeRunner;
  rewards?: RewardConfig;
  /** As in the other environments: episodes firstEpisode, firstEpisode + stride, ... (task e mod n). */
  firstEpisode?: number;
  stride?: number;
}

export class LiveEnvironment implements Environment {
  readonly source = "live" as const;
  private readonly rewards: RewardConfig;
  private nextEpisode: number;
  private readonly stride: number;
  private current: {
    task: Task;
    view: TaskInput;
    episode: LiveEpisode | null;
    state: EpisodeState;
    agents: Agent[];
    return: number;
    done: boolean;
  } | null = null;

  constructor(private readonly options: LiveEnvironmentOptions) {
    if (options.tasks.length === 0) throw new Error("a live environment needs at least one task");
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.nextEpisode = options.firstEpisode ?? 0;
    this.stride = options.stride ?? 1;
  }

  async reset(): Promise<Observation> {
    const task = this.options.tasks[this.nextEpisode % this.options.tasks.length]!;
    this.nextEpisode += this.stride;
    // The policy sees the public parts only: never the hidden tests or the reference solution.
    const view: TaskInput = { id: task.id, prompt: task.prompt, entryPoint: task.entryPoint, visibleExamples: task.visibleExamples };
    this.current = { task, view, episode: null, state: initialEpisodeState(), agents: [], return: 0, done: false };
    return observe(view);
  }

  async step(action: Action): Promise<StepResult> {
    const current = this.current;
    if (!current || current.done) throw new Error("LiveEnvironment.step called without an episode in progress; call reset()");
    const zero = { source: this.source, progress: 0, costPenalty: 0, successBonus: 0, tokens: 0, costUsd: 0 };

    if (current.episode === null) {
      if (action.kind !== "mode") throw new Error("the first action of an episode must be a mode");
      current.episode = await this.options.runner.start(current.task, action.mode);
      current.state = { ...current.state, mode: action.mode };
      return { state: this.observation(), reward: 0, done: false, info: zero };
    }

    if (action.kind !== "agent") throw new Error("a mode was given after the mode decision");
    const mode = current.state.mode!;
    if (!allowedAgentChoices(mode, current.state.steps).includes(action.agent)) {
      throw new Error(`${action.agent} is not allowed in ${mode} mode after ${current.state.steps} steps`);
    }

    let progress = 0;
    let penalty = 0;
    let tokens = 0;
    let costUsd = 0;
    if (action.agent !== "Stop") {
      const report = await current.episode.run(action.agent);
      const before = current.state.visiblePassFraction;
      current.state = advanceEpisodeState(current.state, { agent: action.agent, ...report });
      progress = progressReward(before, current.state.visiblePassFraction, this.rewards);
      tokens = report.tokens;
      costUsd = report.costUsd;
      penalty = costPenalty(tokens, this.rewards);
      current.agents.push(action.agent);
    }

    const done = action.agent === "Stop" || allowedAgentChoices(mode, current.state.steps).length === 0;
    const success = done ? (await current.episode.finish()).success : false;
    const bonus = done ? successBonus(success, this.rewards) : 0;
    const reward = progress - penalty + bonus;
    current.return += reward;
    current.done = done;
    const info = {
      source: this.source,
      agent: action.agent === "Stop" ? undefined : action.agent,
      progress,
      costPenalty: penalty,
      successBonus: bonus,
      tokens,
      costUsd,
      outcome: done
        ? {
            source: this.source,
            taskId: current.task.id,
            mode,
            agents: [...current.agents],
            success,
            tokens: current.state.tokens,
            costUsd: current.state.costUsd,
            return: current.return,
          }
        : undefined,
    };
    return { state: this.observation(), reward, done, info };
  }

  private observation(): Observation {
    const current = this.current!;
    if (current.done) return { task: current.view, episode: current.state, allowed: { kind: "agent", agents: [] } };
    const observation = observe(current.view, current.state);
    const next = current.episode?.pipelineAgent?.();
    if (observation.allowed.kind === "agent" && next) observation.allowed = { ...observation.allowed, pipelineAgent: next };
    return observation;
  }
}
