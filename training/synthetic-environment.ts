import { allowedAgentChoices, MODE_RULES, MODES, type Action, type Agent, type AgentChoice, type Mode } from "../policy/actions.js";
import { initialEpisodeState, type EpisodeState } from "../policy/features.js";
import { observe, type Observation } from "../policy/observation.js";
import { createPrng, deriveSeed } from "../policy/prng.js";
import { advanceEpisodeState, type Environment, type OracleOutcome, type StepResult } from "./environment.js";
import { costPenalty, DEFAULT_REWARD_CONFIG, progressReward, successBonus, type RewardConfig } from "./rewards.js";
import { generateSyntheticTask, type SyntheticTask } from "./synthetic-tasks.js";

/**
 * SyntheticEnvironment: a documented SIMULATOR with a known optimal policy, for tests and
 * demos. Nothing it produces is a model's result; every output says source "synthetic".
 *
 * World. A task has a latent difficulty d (see synthetic-tasks.ts). Choosing a mode sets
 * the "gap" = d − skill(mode); agents shrink the gap; the gap decides how many tests pass:
 *   visible pass fraction = round(n · σ(−(gap − 0.08) / 0.05)) / n   (n visible examples)
 *   hidden-test pass probability = σ(−gap / 0.05)
 * so visible examples are easier than the hidden tests, as in HumanEval.
 *
 * Modes (skill, token multiplier): fast (0.40, ×1), standard (0.55, ×5), deep (0.75, ×50):
 * deep stands for long reasoning with several sampled candidates, hence its price. Agents
 * allowed and step budgets are the mode rules of policy/actions.ts. Without a policy, each
 * mode runs the orchestrator's fixed pipeline (see pipelineAgent below).
 *
 * Agents (tokens at ×1) and what they do; an agent whose condition does not hold changes
 * nothing but still costs its tokens and a step:
 *   Planner  (2000) before any code, once: gap −0.10
 *   Coder    (3000) once: writes the code; visible examples run
 *   Tester   (1500) after code, once per code version: writes extra tests from the
 *                   specification, exposing failures the visible examples miss
 *   Debugger (2500) when visible examples fail, or after a Tester run on the current
 *                   code (it needs failures to work from): gap −0.08; visible examples run
 *   Reviewer (2000) after code, once: gap −0.05; visible examples run
 * At the end the hidden tests pass with the probability above (one uniform drawn per
 * episode at reset, so every controller faces the same luck on the same episode).
 * Dollars: a nominal $2 per million tokens.
 *
 * Oracle. Knowing d, the best plan is found by exhaustive search over every sequence of
 * effective agents within each mode's budget (ineffective agents only cost, so they are
 * never optimal); its expected return is the oracle return. The best a policy that sees
 * only the features can do is below it, because the features are noisy.
 */
export const SYNTHETIC_MODEL = {
  modes: {
    fast: { skill: 0.4, tokenMultiplier: 1 },
    standard: { skill: 0.55, tokenMultiplier: 5 },
    deep: { skill: 0.75, tokenMultiplier: 50 },
  } satisfies Record<Mode, { skill: number; tokenMultiplier: number }>,
  agentTokens: { Planner: 2000, Coder: 3000, Tester: 1500, Debugger: 2500, Reviewer: 2000 } satisfies Record<Agent, number>,
  gapReduction: { Planner: 0.1, Debugger: 0.08, Reviewer: 0.05 },
  visibleOffset: 0.08,
  sharpness: 0.05,
  usdPerMillionTokens: 2,
} as const;

/** The simulator's hidden state of one episode. */
interface World {
  gap: number;
  coded: boolean;
  planned: boolean;
  tested: boolean;
  reviewed: boolean;
  visible: number;
  examples: number;
}

export interface SyntheticEnvironmentOptions {
  seed: number;
  rewards?: RewardConfig;
  /**
   * Episode e of the seed is always the same task and the same luck. An environment plays
   * episodes firstEpisode, firstEpisode + stride, ...; a batch of `stride` environments
   * thus covers episodes 0, 1, 2, ... whatever the batch size.
   */
  firstEpisode?: number;
  stride?: number;
}

export class SyntheticEnvironment implements Environment {
  readonly source = "synthetic" as const;
  private readonly rewards: RewardConfig;
  private nextEpisode: number;
  private readonly stride: number;
  private current: {
    task: SyntheticTask;
    luck: number;
    world: World | null;
    state: EpisodeState;
    agents: Agent[];
    return: number;
    done: boolean;
  } | null = null;

  constructor(private readonly options: SyntheticEnvironmentOptions) {
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.nextEpisode = options.firstEpisode ?? 0;
    this.stride = options.stride ?? 1;
  }

  async reset(): Promise<Observation> {
    const episode = this.nextEpisode;
    this.nextEpisode += this.stride;
    const task = generateSyntheticTask(this.options.seed, episode);
    const luck = createPrng(deriveSeed(this.options.seed, "synthetic-luck", episode)).next();
    this.current = { task, luck, world: null, state: initialEpisodeState(), agents: [], return: 0, done: false };
    return observe(task.task, this.current.state);
  }

  async step(action: Action): Promise<StepResult> {
    const episode = this.current;
    if (!episode || episode.done) throw new Error("SyntheticEnvironment.step called without an episode in progress; call reset()");
    const zero = { source: this.source, progress: 0, costPenalty: 0, successBonus: 0, tokens: 0, costUsd: 0 };

    if (episode.world === null) {
      if (action.kind !== "mode") throw new Error("the first action of an episode must be a mode");
      episode.world = initialWorld(episode.task, action.mode);
      episode.state = { ...episode.state, mode: action.mode };
      return { state: this.observation(), reward: 0, done: false, info: zero };
    }

    if (action.kind !== "agent") throw new Error("a mode was given after the mode decision");
    const mode = episode.state.mode!;
    if (!allowedAgentChoices(mode, episode.state.steps).includes(action.agent)) {
      throw new Error(`${action.agent} is not allowed in ${mode} mode after ${episode.state.steps} steps`);
    }

    let progress = 0;
    let penalty = 0;
    let tokens = 0;
    let costUsd = 0;
    if (action.agent !== "Stop") {
      const agent = action.agent;
      const before = episode.world;
      const after = applyAgent(before, agent);
      tokens = agentTokens(agent, mode);
      costUsd = tokensToUsd(tokens);
      progress = progressReward(before.visible, after.visible, this.rewards);
      penalty = costPenalty(tokens, this.rewards);
      // Visible examples run whenever the code changed (the sandbox re-checks every new version).
      const ranVisibleExamples = after !== before && (agent === "Coder" || agent === "Debugger" || agent === "Reviewer");
      episode.world = after;
      episode.state = advanceEpisodeState(episode.state, {
        agent,
        visiblePassFraction: ranVisibleExamples ? after.visible : undefined,
        tokens,
        costUsd,
      });
      episode.agents.push(agent);
    }

    const done = action.agent === "Stop" || allowedAgentChoices(mode, episode.state.steps).length === 0;
    const success = done && episode.world.coded && episode.luck < hiddenPassProbability(episode.world.gap);
    const bonus = done ? successBonus(success, this.rewards) : 0;
    const reward = progress - penalty + bonus;
    episode.return += reward;
    episode.done = done;

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
            taskId: episode.task.task.id,
            mode,
            agents: [...episode.agents],
            success,
            tokens: episode.state.tokens,
            costUsd: episode.state.costUsd,
            return: episode.return,
            oracle: syntheticOracle(episode.task, this.rewards),
          }
        : undefined,
    };
    return { state: this.observation(), reward, done, info };
  }

  private observation(): Observation {
    const episode = this.current!;
    if (episode.done) return { task: episode.task.task, episode: episode.state, allowed: { kind: "agent", agents: [] } };
    const observation = observe(episode.task.task, episode.state);
    if (observation.allowed.kind === "agent" && episode.world) {
      observation.allowed = { ...observation.allowed, pipelineAgent: pipelineAgent(episode.state.mode!, episode.agents, episode.world) };
    }
    return observation;
  }
}

/**
 * What src/orchestrator's fixed pipeline for the mode runs next, which the always-<mode>
 * baselines follow: fast = Coder; standard = Planner, Coder, Tester, then Debugger while
 * visible examples fail (at most 2 rounds); deep = the same, then the Reviewer.
 */
function pipelineAgent(mode: Mode, done: readonly Agent[], world: World): AgentChoice {
  const script: readonly Agent[] = mode === "fast" ? ["Coder"] : ["Planner", "Coder", "Tester"];
  if (done.length < script.length) return script[done.length]!;
  if (mode === "fast") return "Stop";
  const debugRounds = done.filter((agent) => agent === "Debugger").length;
  if (world.visible < 1 && debugRounds < 2) return "Debugger";
  if (mode === "deep" && !done.includes("Reviewer")) return "Reviewer";
  return "Stop";
}

/** `count` environments that together play episodes 0, 1, 2, ... of one seed (see SyntheticEnvironmentOptions). */
export function createSyntheticEnvironments(count: number, seed: number, rewards?: RewardConfig): SyntheticEnvironment[] {
  return Array.from({ length: count }, (_, slot) => new SyntheticEnvironment({ seed, rewards, firstEpisode: slot, stride: count }));
}

/** The optimal plan given the latent difficulty, and its expected outcome. */
export function syntheticOracle(task: SyntheticTask, rewards: RewardConfig = DEFAULT_REWARD_CONFIG): OracleOutcome {
  let best: OracleOutcome | null = null;
  for (const mode of MODES) {
    const plan = bestPlan(initialWorld(task, mode), mode, 0, rewards);
    const world = plan.agents.reduce((w, agent) => applyAgent(w, agent), initialWorld(task, mode));
    const tokens = plan.agents.reduce((sum, agent) => sum + agentTokens(agent, mode), 0);
    const candidate: OracleOutcome = {
      return: plan.value,
      success: world.coded ? hiddenPassProbability(world.gap) : 0,
      tokens,
      costUsd: tokensToUsd(tokens),
      mode,
      agents: plan.agents,
    };
    if (!best || candidate.return > best.return) best = candidate;
  }
  return best!;
}

/** Exhaustive search over effective agents: the expected return of the best continuation. */
function bestPlan(world: World, mode: Mode, steps: number, rewards: RewardConfig): { value: number; agents: Agent[] } {
  let best = { value: world.coded ? rewards.successBonus * hiddenPassProbability(world.gap) : 0, agents: [] as Agent[] };
  if (steps >= MODE_RULES[mode].maxAgentSteps) return best;
  for (const agent of MODE_RULES[mode].allowedAgents) {
    if (!isEffective(world, agent)) continue;
    const next = applyAgent(world, agent);
    const reward = progressReward(world.visible, next.visible, rewards) - costPenalty(agentTokens(agent, mode), rewards);
    const rest = bestPlan(next, mode, steps + 1, rewards);
    if (reward + rest.value > best.value) best = { value: reward + rest.value, agents: [agent, ...rest.agents] };
  }
  return best;
}

function initialWorld(task: SyntheticTask, mode: Mode): World {
  return {
    gap: task.difficulty - SYNTHETIC_MODEL.modes[mode].skill,
    coded: false,
    planned: false,
    tested: false,
    reviewed: false,
    visible: 0,
    examples: Math.max(1, task.task.visibleExamples.length),
  };
}

function isEffective(world: World, agent: Agent): boolean {
  switch (agent) {
    case "Planner":
      return !world.coded && !world.planned;
    case "Coder":
      return !world.coded;
    case "Tester":
      return world.coded && !world.tested;
    case "Debugger":
      return world.coded && (world.visible < 1 || world.tested);
    case "Reviewer":
      return world.coded && !world.reviewed;
  }
}

/** The documented agent rules; an ineffective agent returns the world unchanged. */
function applyAgent(world: World, agent: Agent): World {
  if (!isEffective(world, agent)) return world;
  const next = { ...world };
  const reduction = SYNTHETIC_MODEL.gapReduction;
  switch (agent) {
    case "Planner":
      next.planned = true;
      next.gap -= reduction.Planner;
      return next;
    case "Coder":
      next.coded = true;
      break;
    case "Tester":
      next.tested = true;
      return next;
    case "Debugger":
      next.gap -= reduction.Debugger;
      next.tested = false; // the code changed: its failures must be found again
      break;
    case "Reviewer":
      next.reviewed = true;
      next.gap -= reduction.Reviewer;
      next.tested = false;
      break;
  }
  next.visible = visibleFraction(next.gap, next.examples);
  return next;
}

function visibleFraction(gap: number, examples: number): number {
  return Math.round(examples * sigmoid(-(gap - SYNTHETIC_MODEL.visibleOffset) / SYNTHETIC_MODEL.sharpness)) / examples;
}

function hiddenPassProbability(gap: number): number {
  return sigmoid(-gap / SYNTHETIC_MODEL.sharpness);
}

function agentTokens(agent: Agent, mode: Mode): number {
  return SYNTHETIC_MODEL.agentTokens[agent] * SYNTHETIC_MODEL.modes[mode].tokenMultiplier;
}

function tokensToUsd(tokens: number): number {
  return (tokens / 1_000_000) * SYNTHETIC_MODEL.usdPerMillionTokens;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The seed of held-out synthetic tasks for a training seed: a different stream, so evaluation never sees training tasks. */
export function heldOutSyntheticSeed(trainingSeed: number): number {
  return deriveSeed(trainingSeed, "held-out");
}
