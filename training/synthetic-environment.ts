import { MODE_RULES, MODES, type Action, type Agent, type AgentChoice, type Mode } from "../policy/actions.js";
import { draftsPerCoderStep, MODE_SPECS, nextScriptedAgent, SCRIPT_DEFAULTS } from "../policy/mode-spec.js";
import { observe, type Observation } from "../policy/observation.js";
import { createPrng, deriveSeed } from "../policy/prng.js";
import type { AgentStepReport, Environment, OracleOutcome, StepResult } from "./environment.js";
import { EpisodeNumbers, type EpisodeStream } from "./episode-numbers.js";
import { episodeInProgress, modeRules, newEpisodeRecord, stepEpisode, type EpisodeRecord } from "./episode-steps.js";
import { stepCostPenalty, DEFAULT_REWARD_CONFIG, progressReward, type RewardConfig } from "./rewards.js";
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
 * Modes (skill, token multiplier): fast (0.40, ×1), standard (0.55, ×5), deep (0.72, ×25):
 * deep stands for long reasoning, hence its price. Agents allowed, step budgets and each mode's
 * script are the mode spec's (policy/mode-spec.ts, product "humaneval"): without a policy, each
 * mode plays its script exactly as the orchestrator's fixed pipeline runs it (pipelineAgent).
 *
 * Agents (tokens at ×1) and what they do; an agent whose condition does not hold changes
 * nothing but still costs its tokens and a step:
 *   Planner  (2000) before any code, once: gap −0.10
 *   Coder    (3000) first call: writes the code; visible examples run. In a mode whose script
 *                   samples K drafts (deep, K = the spec's trajectories default), it pays K
 *                   calls and keeps the best: gap −0.02·log2(K). Later, once, when there are
 *                   K ≥ 2 drafts and visible examples fail: merges the best two (deep's
 *                   hybrid): gap −0.04; visible examples run
 *   Tester   (1500) once per code version (also before any code, from the specification):
 *                   extra tests that expose failures the visible examples miss
 *   Debugger (2500) when visible examples fail, after a Tester run on the current code, or
 *                   after the Reviewer rejected it (it needs failures to work from): gap
 *                   −0.08; visible examples run
 *   Reviewer (2000) after code, once: gap −0.05; visible examples run. It rejects code that
 *                   would more likely fail the hidden tests than pass (gap > 0), which gives
 *                   the Debugger something to work from
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
    deep: { skill: 0.72, tokenMultiplier: 25 },
  } satisfies Record<Mode, { skill: number; tokenMultiplier: number }>,
  agentTokens: { Planner: 2000, Coder: 3000, Tester: 1500, Debugger: 2500, Reviewer: 2000 } satisfies Record<Agent, number>,
  gapReduction: { Planner: 0.1, Debugger: 0.08, Reviewer: 0.05, Hybrid: 0.04, perDraftDoubling: 0.02 },
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
  /** The Reviewer rejected the current code. */
  rejected: boolean;
  /** Debugger rounds that changed the code; with the flags above, they say which reductions the gap took. */
  debugged: number;
  /** Drafts the first Coder call wrote (0 before any code). */
  drafts: number;
  hybrid: boolean;
  /** K: the drafts a first Coder call writes in this mode. */
  draftsPerCall: number;
  visible: number;
  examples: number;
}

/** Episode e of the seed is always the same task and the same luck. */
export interface SyntheticEnvironmentOptions extends EpisodeStream {
  seed: number;
  rewards?: RewardConfig;
  /**
   * Oracle outcomes by episode, shared by environments that replay the same episodes with the
   * same rewards (the held-out batches every controller plays): each episode is searched once,
   * not once per controller.
   */
  oracles?: Map<number, OracleOutcome>;
}

export class SyntheticEnvironment implements Environment {
  readonly source = "synthetic" as const;
  private readonly rewards: RewardConfig;
  private readonly episodes: EpisodeNumbers;
  private current: (EpisodeRecord & { episode: number; task: SyntheticTask; luck: number; world: World | null }) | null = null;

  constructor(private readonly options: SyntheticEnvironmentOptions) {
    this.rewards = options.rewards ?? DEFAULT_REWARD_CONFIG;
    this.episodes = new EpisodeNumbers(options);
  }

  async reset(): Promise<Observation> {
    const episode = this.episodes.take();
    const task = generateSyntheticTask(this.options.seed, episode);
    const luck = createPrng(deriveSeed(this.options.seed, "synthetic-luck", episode)).next();
    this.current = { episode, task, luck, world: null, ...newEpisodeRecord(task.task.id) };
    return observe(task.task, this.current.state);
  }

  async step(action: Action): Promise<StepResult> {
    const episode = episodeInProgress(this.current, "SyntheticEnvironment");
    return stepEpisode(episode, action, {
      source: this.source,
      rewards: this.rewards,
      ...modeRules(episode),
      start: (mode) => {
        episode.world = initialWorld(episode.task, mode);
      },
      // stepEpisode starts the episode before anything runs or finishes, so episode.world is set here.
      run: (agent) => {
        const step = simulateStep(episode.world!, agent, episode.state.mode!);
        episode.world = step.world;
        return step.report;
      },
      finish: () => episode.world!.coded && episode.luck < hiddenPassProbability(episode.world!.gap),
      oracle: () => this.oracle(episode.episode, episode.task),
      observe: () => this.observation(),
    });
  }

  private oracle(episode: number, task: SyntheticTask): OracleOutcome {
    const known = this.options.oracles?.get(episode);
    if (known) return known;
    const found = syntheticOracle(task, this.rewards);
    this.options.oracles?.set(episode, found);
    return found;
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
 * One agent in the simulator: the world after it, and what the step measured and spent.
 * Visible examples run whenever the code changed (the sandbox re-checks every new version),
 * and only then can world.visible change; so the episode state's visible pass fraction always
 * equals world.visible, and the progress reward of a step is the one the oracle's search counts.
 */
function simulateStep(before: World, agent: Agent, mode: Mode): { world: World; report: AgentStepReport } {
  const after = applyAgent(before, agent);
  const tokens = stepTokens(before, agent, mode);
  const ranVisibleExamples = after !== before && (agent === "Coder" || agent === "Debugger" || agent === "Reviewer");
  const reviewed = agent === "Reviewer" && after !== before;
  const report: AgentStepReport = { visiblePassFraction: ranVisibleExamples ? after.visible : undefined, tokens, costUsd: tokensToUsd(tokens) };
  if (reviewed) report.review = after.rejected ? "rejected" : "accepted";
  return { world: after, report };
}

/**
 * What the mode's script (the mode spec's, which src/orchestrator's fixed pipeline runs) does
 * next on this world, which the always-<mode> baselines follow. "Failing" is the visible
 * examples failing; "rejected" the Reviewer's rejection.
 */
function pipelineAgent(mode: Mode, done: readonly Agent[], world: World): AgentChoice {
  const evidence = { failing: world.coded && world.visible < 1, rejected: world.rejected, drafts: world.drafts };
  return nextScriptedAgent(MODE_SPECS.humaneval[mode].script, done, evidence, SCRIPT_DEFAULTS);
}

/** `count` environments that together play episodes 0, 1, 2, ... of one seed (see EpisodeStream); `oracles` as in SyntheticEnvironmentOptions. */
export function createSyntheticEnvironments(count: number, seed: number, rewards?: RewardConfig, oracles?: Map<number, OracleOutcome>): SyntheticEnvironment[] {
  return Array.from({ length: count }, (_, slot) => new SyntheticEnvironment({ seed, rewards, oracles, firstEpisode: slot, stride: count }));
}

/** The optimal plan given the latent difficulty, and its expected outcome. */
export function syntheticOracle(task: SyntheticTask, rewards: RewardConfig = DEFAULT_REWARD_CONFIG): OracleOutcome {
  let best: OracleOutcome | null = null;
  for (const mode of MODES) {
    const plan = bestPlan(initialWorld(task, mode), mode, 0, rewards, new Map());
    const world = plan.agents.reduce((w, agent) => applyAgent(w, agent), initialWorld(task, mode));
    let tokens = 0;
    plan.agents.reduce((w, agent) => ((tokens += stepTokens(w, agent, mode)), applyAgent(w, agent)), initialWorld(task, mode));
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

/**
 * Exhaustive search over effective agents: the expected return of the best continuation.
 * Many orders of the same agents reach the same world (a Tester before or after a Debugger
 * round), so each (world, steps) is searched once: `seen` memoises it for one task and mode.
 * Within one task and mode a world is its flags and Debugger rounds (the gap, drafts and
 * visible fraction follow from them), so the key is a small integer: the search runs once per
 * training episode and once per held-out one, and a string key built from the gap's float was
 * most of its time.
 */
function bestPlan(world: World, mode: Mode, steps: number, rewards: RewardConfig, seen: Map<number, { value: number; agents: Agent[] }>): { value: number; agents: Agent[] } {
  const flags = +world.coded | (+world.planned << 1) | (+world.tested << 2) | (+world.reviewed << 3) | (+world.rejected << 4) | (+world.hybrid << 5);
  const key = (steps * 32 + world.debugged) * 64 + flags;
  const known = seen.get(key);
  if (known) return known;
  const found = searchPlan(world, mode, steps, rewards, seen);
  seen.set(key, found);
  return found;
}

function searchPlan(world: World, mode: Mode, steps: number, rewards: RewardConfig, seen: Map<number, { value: number; agents: Agent[] }>): { value: number; agents: Agent[] } {
  let best = { value: world.coded ? rewards.successBonus * hiddenPassProbability(world.gap) : 0, agents: [] as Agent[] };
  if (steps >= MODE_RULES[mode].maxAgentSteps) return best;
  for (const agent of MODE_RULES[mode].allowedAgents) {
    if (!isEffective(world, agent)) continue;
    const next = applyAgent(world, agent);
    const tokens = stepTokens(world, agent, mode);
    const reward = progressReward(world.visible, next.visible, rewards) - stepCostPenalty({ tokens, costUsd: tokensToUsd(tokens) }, rewards);
    const rest = bestPlan(next, mode, steps + 1, rewards, seen);
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
    rejected: false,
    debugged: 0,
    drafts: 0,
    hybrid: false,
    draftsPerCall: draftsPerCoderStep(MODE_SPECS.humaneval[mode], SCRIPT_DEFAULTS),
    visible: 0,
    examples: Math.max(1, task.task.visibleExamples.length),
  };
}

function isEffective(world: World, agent: Agent): boolean {
  switch (agent) {
    case "Planner":
      return !world.coded && !world.planned;
    case "Coder":
      return !world.coded || canMergeDrafts(world);
    case "Tester":
      return !world.tested;
    case "Debugger":
      return world.coded && (world.visible < 1 || world.tested || world.rejected);
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
      if (world.coded) {
        next.hybrid = true;
        next.gap -= reduction.Hybrid;
        next.tested = false;
        next.rejected = false;
        break;
      }
      next.coded = true;
      next.drafts = world.draftsPerCall;
      next.gap -= reduction.perDraftDoubling * Math.log2(world.draftsPerCall);
      break;
    case "Tester":
      next.tested = true;
      return next;
    case "Debugger":
      next.gap -= reduction.Debugger;
      next.debugged += 1;
      next.tested = false; // the code changed: its failures must be found again
      next.rejected = false;
      break;
    case "Reviewer":
      next.reviewed = true;
      next.gap -= reduction.Reviewer;
      next.tested = false;
      next.rejected = next.gap > 0;
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

/** Deep's hybrid: a second Coder call merging the best two of K ≥ 2 drafts while visible examples fail. */
function canMergeDrafts(world: World): boolean {
  return world.coded && world.drafts >= 2 && !world.hybrid && world.visible < 1;
}

/** What an agent pays on this world: a first Coder call pays for each of its drafts. */
function stepTokens(world: World, agent: Agent, mode: Mode): number {
  const calls = agent === "Coder" && !world.coded ? world.draftsPerCall : 1;
  return calls * SYNTHETIC_MODEL.agentTokens[agent] * SYNTHETIC_MODEL.modes[mode].tokenMultiplier;
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
