import type { Agent } from "../../agents/agent.js";
import { MODES, type AgentChoice, type Mode } from "../../policy/actions.js";
import type { Sandbox, Verdict } from "../../sandbox/sandbox.js";
import { publicView, type Task } from "../../tasks/task.js";
import type { AgentStepReport } from "../../training/environment.js";
import type { LiveEpisode, LiveEpisodeRunner } from "../../training/live-environment.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import type { ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import type { Budget } from "./budget.js";
import { hiddenVerdict } from "../evaluation/hidden-verdict.js";
import { backendsByAgent, connectModels } from "./model-backends.js";
import type { ModelChoice } from "./agent-models.js";
import { episodeResult, functionEpisode, type FunctionEpisode } from "./pipelines/function-task.js";
import { modelsOnRung, rungCount, startModes, startRung, type Ladder } from "./ladder.js";
import type { PipelineResult, PipelineSettings } from "./pipeline.js";
import { Trajectory, type StepListener } from "./trajectory.js";

/**
 * The orchestrator's side of training/live-environment.ts: episodes of real agents, models
 * and sandbox, one agent per call, for whoever decides (the LiveEnvironment of
 * `koderz train-meta --env live`, or `koderz benchmark --mode auto`).
 */
export interface EpisodeRunnerOptions {
  models: Record<Agent, ModelBackend>;
  sandbox: Sandbox;
  settings: PipelineSettings;
  /** Per-episode limits, as for any experiment. */
  budget?: Budget;
  /** The grader's time limit for a task (scaled per task for HumanEval+). */
  hiddenTimeoutSeconds?: (task: Task) => number | undefined;
  onStep?: StepListener;
  signal?: AbortSignal;
  /** `--ladder`: the rungs Escalate climbs, and a backend for each model a rung names. */
  ladder?: { ladder: Ladder; backend(model: string): ModelBackend };
}

export class OrchestratorEpisodeRunner implements LiveEpisodeRunner {
  constructor(private readonly options: EpisodeRunnerOptions) {}

  /** A ladder of modes is also the modes an episode may start on (any rung); otherwise every mode. */
  get startModes(): readonly Mode[] {
    return startModes(this.options.ladder?.ladder);
  }

  async start(task: Task, mode: Mode): Promise<OrchestratedEpisode> {
    return new OrchestratedEpisode(task, mode, this.options);
  }
}

/** One episode: its trajectory (the steps a store records) and, once finished, the grader's verdict. */
export class OrchestratedEpisode implements LiveEpisode {
  readonly trajectory: Trajectory;
  readonly startedAt = Date.now();
  private readonly episode: FunctionEpisode;
  private graded: Verdict | undefined;
  /** The ladder's rung the episode is on (0 without a ladder). */
  rung = 0;
  readonly rungs: number;

  constructor(
    private readonly task: Task,
    /** The mode the policy chose to start in. */
    readonly startMode: Mode,
    private readonly options: EpisodeRunnerOptions,
  ) {
    const mode = startMode;
    this.trajectory = new Trajectory(options.budget, options.onStep);
    const ladder = options.ladder?.ladder;
    this.rungs = ladder ? rungCount(ladder) : 1;
    this.rung = startRung(ladder, mode);
    // Agents get the public view only: the hidden tests stay with finish().
    const context = { task: publicView(task), models: this.modelsOnRung(0), sandbox: options.sandbox, trajectory: this.trajectory, settings: options.settings, signal: options.signal };
    this.episode = functionEpisode(context, mode);
  }

  /** The mode the episode is in now (an escalation on a ladder of modes changes it). */
  get mode(): Mode {
    return this.episode.work.mode;
  }

  run(agent: Agent): Promise<AgentStepReport> {
    if (this.graded) throw new Error("the episode was already graded; start a new one");
    return this.episode.step(agent);
  }

  /** What the mode's fixed pipeline would run next (the always-<mode> baselines follow it). */
  pipelineAgent(): AgentChoice {
    return this.episode.scriptedNext();
  }

  /** Climbs one rung, keeping the work (TeamEpisode.escalate), and runs the new rung's laddered agent at once. */
  async escalate(): Promise<{ mode: Mode; agent: Agent; report: AgentStepReport }> {
    const ladder = this.options.ladder;
    if (!ladder || this.rung >= this.rungs - 1) throw new Error("no rung left to escalate to");
    this.rung += 1;
    const first = this.episode.escalate(ladder.ladder, this.rung, ladder.backend);
    const report = await this.episode.step(first);
    return { mode: this.episode.work.mode, agent: this.episode.work.ran.at(-1)!, report };
  }

  private modelsOnRung(rung: number): Record<Agent, ModelBackend> {
    const ladder = this.options.ladder;
    return ladder ? modelsOnRung(ladder.ladder, rung, this.options.models, ladder.backend) : this.options.models;
  }

  /** Grades the best candidate against the hidden tests (an empty completion when no code was written). */
  async finish(): Promise<{ success: boolean }> {
    const timeout = this.options.hiddenTimeoutSeconds?.(this.task);
    this.graded = await hiddenVerdict(this.options.sandbox, this.task, this.episode.work.best?.completion ?? "", timeout);
    return { success: this.graded.passed };
  }

  get verdict(): Verdict | undefined {
    return this.graded;
  }

  result(): PipelineResult {
    return episodeResult(this.episode);
  }
}

export interface OpenRunnerOptions {
  tasks: readonly Task[];
  models: ModelChoice;
  modelConfig?: ModelConfig;
  settings: PipelineSettings;
  budget?: Budget;
  openSandbox(): Promise<Sandbox>;
  signal?: AbortSignal;
  /** The models, connected and checked already (train-meta checks them with the dataset and sandbox, src/prerequisites.ts). */
  backends?: ReadonlyMap<string, ModelBackend>;
}

/**
 * A runner for `koderz train-meta --env live`: every model any mode may call is checked first,
 * then the sandbox opens (HumanEval+ time limits are scaled per task, as in a benchmark).
 * close() shuts the sandbox.
 */
export async function openEpisodeRunner(options: OpenRunnerOptions): Promise<{ runner: OrchestratorEpisodeRunner; close(): Promise<void> }> {
  const backends = options.backends ?? (await connectModels(options.models, { modelConfig: options.modelConfig, preflightModes: MODES }));
  const sandbox = await options.openSandbox();
  try {
    const plus = options.tasks.some((task) => task.suite === "humaneval+");
    const limits = plus ? await scaledTimeLimits(options.tasks, sandbox) : new Map<string, number>();
    const runner = new OrchestratorEpisodeRunner({
      models: backendsByAgent(options.models, backends),
      sandbox,
      settings: options.settings,
      budget: options.budget,
      hiddenTimeoutSeconds: (task) => limits.get(task.id) ?? DEFAULT_TIMEOUT_SECONDS,
      signal: options.signal,
    });
    return { runner, close: () => sandbox.close() };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}
