import type { Agent } from "../../agents/agent.js";
import type { ToolOutcome } from "../../agents/tools/tool.js";
import { connectEngine, engineAddress, engineAnswers, inspectImage } from "../../sandbox/engine.js";
import { openCaseWorkspace } from "../../sandbox/case-workspace.js";
import { WORKSPACE_IMAGE } from "../../sandbox/workspace-image.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import { scoreCompletion, type TracedToolCall } from "../evaluation/scorers/index.js";
import { serializeToolArguments } from "../llm/tool-arguments.js";
import type { ToolCall } from "../llm/types.js";
import { experimentOutcome, type ExperimentOutcome, type ExperimentSpec } from "./experiment.js";
import { MODE_VOCABULARY } from "../../policy/mode-vocabulary.js";
import { SOLVE_PIPELINES } from "./solve/repository-task.js";
import { repositoryMap } from "./solve/repo-map.js";
import { SolveTrajectory } from "./solve/solve-trajectory.js";
import { givenTestCommand } from "./solve/test-command.js";
import { WorkspaceTests, type TestRun } from "./solve/workspace-tests.js";

/**
 * The solver of agentic suite cases: the case's files go into a koderz-workspace container and
 * the repository agents work on its goal there, with their tools, exactly as `koderz solve` runs
 * them (its pipelines, run-agent's tool loop, the same trajectory of model turns and tool calls).
 * Then the tool-trace scorer reads the workspace they left and the tool calls they made.
 */


/** Seconds the case's test command may run, for the agents' run_tests and the orchestrator's checks. */
const TEST_SECONDS = 60;

/** Runs one agentic case (a task with a workspace) through the mode's repository pipeline, then scores it with tool-trace. */
export async function runAgenticExperiment(spec: ExperimentSpec): Promise<ExperimentOutcome> {
  const started = Date.now();
  const { task } = spec;
  if (!task.workspace) throw new Error(`${task.id} is not an agentic case: it has no workspace`);
  const setup = task.workspace;
  const workspace = await openCaseWorkspace(setup.files, spec.signal);
  try {
    const trajectory = new TracedTrajectory({ ...spec.budget, maxToolCalls: setup.maxToolCalls }, spec.onStep);
    const tests = setup.testCommand ? new WorkspaceTests(workspace, givenTestCommand(setup.testCommand), TEST_SECONDS) : undefined;
    const runTests = async (ids?: string[]): Promise<TestRun> => (tests ? tests.run(ids) : NO_TEST_COMMAND);
    const outcome = await SOLVE_PIPELINES[MODE_VOCABULARY[spec.mode].repositoryMode]({
      issue: { title: task.id, issueText: task.prompt, knownFailingTests: [], testCommand: setup.testCommand ?? "(none: check your work with the run tool)" },
      repoMap: await repositoryMap(workspace),
      models: spec.models,
      tools: { workspace, runTests },
      trajectory,
      check: () => runTests(),
      diff: () => workspace.diff(),
      debugRounds: spec.settings.debugRounds,
      signal: spec.signal,
    });
    const completion = await workspace.diff();
    const scored = await scoreCompletion({
      task,
      completion,
      sandbox: spec.sandbox,
      timeoutSeconds: spec.hiddenTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      judge: spec.models.Reviewer,
      signal: spec.signal,
      agentic: { workspace, toolCalls: trajectory.calls },
    });
    return experimentOutcome(trajectory.steps, { completion, iterations: outcome.iterations, stoppedBy: outcome.stoppedBy }, scored, started);
  } finally {
    await workspace.close();
  }
}

/**
 * Before a run starts: its agentic cases need a Docker engine and the workspace image. Checked up
 * front, so a missing image is one error before anything runs, not a failure after the other cases.
 */
export async function checkAgenticPrerequisites(tasks: readonly Task[]): Promise<void> {
  const agentic = tasks.filter((task) => task.workspace).length;
  if (agentic === 0) return;
  const docker = connectEngine();
  const why = `${agentic} of the run's cases ${agentic === 1 ? "is" : "are"} agentic: their agents work in ${WORKSPACE_IMAGE} containers`;
  if (!(await engineAnswers(docker))) {
    throw new KoderzError("sandbox_unavailable", `${why}, and no Docker engine answered at ${engineAddress()}`, "start one (nohup dockerd >/tmp/dockerd.log 2>&1 &), or give a range without the agentic cases");
  }
  if (!(await inspectImage(docker, WORKSPACE_IMAGE))) {
    throw new KoderzError("sandbox_unavailable", `${why}, and the image ${WORKSPACE_IMAGE} does not exist`, "build it with `koderz sandbox build --workspace` (about 3 minutes), or give a range without the agentic cases");
  }
}

/** What run_tests answers, and what the checks see, in a case that gives no test command: nothing to fail. */
const NO_TEST_COMMAND: TestRun = {
  command: "(no test command)",
  passed: true,
  exitCode: 0,
  timedOut: false,
  output: "this task has no test command; check your work with the run tool",
  durationMs: 0,
};

/** The solve trajectory, also keeping each tool call as the tool-trace scorer reads it. */
class TracedTrajectory extends SolveTrajectory {
  readonly calls: TracedToolCall[] = [];

  override addToolCall(agent: Agent, call: ToolCall, outcome: ToolOutcome, latencyMs: number): void {
    this.calls.push({ agent, tool: call.name, arguments: serializeToolArguments(call), isError: outcome.isError });
    super.addToolCall(agent, call, outcome, latencyMs);
  }
}
