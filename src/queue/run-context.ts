import type { Sandbox } from "../../sandbox/sandbox.js";
import { selectRange } from "../../tasks/load.js";
import { loadConfiguredTasks } from "../../tasks/suite-file.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scaledTimeLimits } from "../evaluation/time-limits.js";
import type { ModelConfig } from "../llm/index.js";
import type { ModelBackend } from "../llm/types.js";
import { parseStoredConfig, type BenchmarkConfig } from "../orchestrator/benchmark-config.js";
import { armsFor, type BenchmarkArm } from "../orchestrator/benchmark-runner.js";
import { connectModels, preflightJudge } from "../orchestrator/model-backends.js";
import { prepareSuite, solveModeOf, type SuiteInstance } from "../orchestrator/repo-suite-instance.js";
import { asksJudge } from "../evaluation/scorers/rubric.js";
import type { RunRecord } from "../store/index.js";

/**
 * What a worker needs to run any job of one run, built once per run and reused: the run's
 * config, its tasks, its model backends (checked once, as a local run checks them before it
 * starts) and the hidden-test time limits.
 */
export interface RunContext {
  config: BenchmarkConfig;
  tasks: ReadonlyMap<string, Task>;
  arms: ReadonlyMap<string, BenchmarkArm>;
  backends: ReadonlyMap<string, ModelBackend>;
  hiddenTimeoutSeconds(task: Task): number;
  /** A repository suite's instances by id, on this machine's clones (its tasks are none then). */
  instances?: ReadonlyMap<string, SuiteInstance>;
}

export interface RunContextDeps {
  sandbox: Sandbox;
  modelConfig?: ModelConfig;
  /** Wraps each model backend, e.g. with the shared per-model rate limit. */
  wrapBackend?(backend: ModelBackend): ModelBackend;
}

export function queuedRunConfig(run: RunRecord): BenchmarkConfig {
  const parsed = parseStoredConfig(run.config);
  if (!parsed.success || run.kind !== "benchmark") {
    throw new KoderzError("bad_input", `run ${run.runId} was not started by \`koderz benchmark\` (its config does not fit)`, "queue runs with `koderz benchmark --queue URL`");
  }
  checkQueueable(parsed.data);
  return parsed.data;
}

/** Every mode but auto runs through the queue: auto's policy (and --learn's updates) live in one process. */
export function checkQueueable(config: Pick<BenchmarkConfig, "mode" | "reposDir">): void {
  if (config.mode === "auto") {
    throw new KoderzError("usage", "--mode auto is not run through the queue (its policy lives in one process)", "run auto mode locally, or queue a fixed mode");
  }
  if (config.reposDir !== undefined) solveModeOf(config.mode);
}

export async function loadRunContext(run: RunRecord, deps: RunContextDeps): Promise<RunContext> {
  const config = queuedRunConfig(run);
  const arms = armsFor(config.mode);
  const wrap = (connected: Map<string, ModelBackend>) => new Map([...connected].map(([model, backend]) => [model, deps.wrapBackend ? deps.wrapBackend(backend) : backend]));
  // A replay asks no model: nothing needs to answer.
  const preflightModes = config.replayOf ? [] : arms.flatMap((arm) => (arm.mode === "auto" ? [] : [arm.mode]));
  const common = { config, arms: new Map(arms.map((arm) => [arm.arm, arm])) };
  if (config.reposDir !== undefined) {
    const { backends, instances } = await prepareSuite(config, deps.modelConfig);
    return { ...common, tasks: new Map(), backends: wrap(backends), hiddenTimeoutSeconds: () => DEFAULT_TIMEOUT_SECONDS, instances };
  }
  const all = await loadConfiguredTasks(config);
  const wanted = new Set(config.problemIds);
  const tasks = selectRange(all, config.problemRange[0], config.problemRange[1]).filter((task) => wanted.has(task.id));
  const connected = await connectModels(config, { modelConfig: deps.modelConfig, preflightModes });
  if (!config.replayOf && tasks.some(asksJudge)) await preflightJudge(config, connected, preflightModes);
  const timeLimits = config.suite === "humaneval+" ? await scaledTimeLimits(tasks, deps.sandbox) : new Map<string, number>();
  return {
    ...common,
    tasks: new Map(tasks.map((task) => [task.id, task])),
    backends: wrap(connected),
    hiddenTimeoutSeconds: (task) => timeLimits.get(task.id) ?? task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
  };
}
