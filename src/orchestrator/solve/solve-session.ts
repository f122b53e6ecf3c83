import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { simpleGit } from "simple-git";
import type { ToolContext } from "../../../agents/tools/tool.js";
import { Workspace } from "../../../sandbox/workspace.js";
import { WORKSPACE_IMAGE } from "../../../sandbox/workspace-image.js";
import { publicIssue, uncommittedChanges, type RepoCheckout, type RepoTask } from "../../../tasks/repo-task.js";
import { KoderzError } from "../../errors.js";
import { withCallLog, type ModelConfig } from "../../llm/index.js";
import type { ModelBackend } from "../../llm/types.js";
import { escalationsTag, experimentIdFor, newRunId, type ExperimentRecord, type RunRecord, type Store } from "../../store/index.js";
import { chosenModeTag } from "../../../policy/chosen-mode-tag.js";
import type { ModelChoice } from "../agent-models.js";
import { describeLadder, ladderModels, type Ladder } from "../ladder.js";
import { backendsByAgent, connectModels } from "../model-backends.js";
import type { StepListener } from "../trajectory.js";
import { checkNewBranch, commitOnNewBranch } from "./apply-patch.js";
import { loadSolvePolicy } from "./auto-mode.js";
import { gradeWorkspace, type Grade, type GradeStatus, type SuiteGrade } from "./grade.js";
import { HiddenPatchTests } from "./hidden-patch-tests.js";
import { climbStartModes, rungModes, type RungEnd, type RungReport } from "../engine/ladder-climb.js";
import { climbSolveLadder, SOLVE_PIPELINES, type LadderOutcome } from "./repository-task.js";
import { repositoryMap } from "./repo-map.js";
import { SOLVE_MODES, type SolveContext, type SolveMode, type SolveOutcome } from "./solve-pipeline.js";
import { SolveTrajectory, type SolveBudget } from "./solve-trajectory.js";
import { frameworkTestCommand } from "./swe-harness.js";
import { SuiteTests, type Baseline } from "./suite-tests.js";
import { fileOf, namedOutcome, suiteTotals } from "./suite-outcomes.js";
import { splitsByFile, type FileRun } from "./suite-run.js";
import { cannotRunReason, detectTestCommand, givenTestCommand, type RepoFiles, type TestCommand } from "./test-command.js";
import { WorkspaceTests, type TestRun } from "./workspace-tests.js";

export interface SolveRequest {
  task: RepoTask;
  mode: SolveMode | "auto";
  policyPath?: string;
  /** --ladder (with --mode auto): the rungs to climb while the repository's tests fail. */
  ladder?: Ladder;
  models: ModelChoice;
  modelConfig?: ModelConfig;
  /** The workspace image (default koderz-workspace). */
  image?: string;
  network: boolean;
  /** --test-cmd; detected from the repository when absent. */
  testCommand?: string;
  testTimeoutSeconds: number;
  /** Each test file's time limit in the suite runs that grade the change (default 60 s). */
  fileTimeoutSeconds?: number;
  budget: SolveBudget;
  debugRounds: number;
  /** --apply: commit the patch on a new branch of the user's repository; only a solved one unless force (--force). */
  apply?: { branch?: string; force?: boolean };
  cache: boolean;
  /** Answer every model call from this run's log instead of a model (a repository suite's --replay). */
  replayRunId?: string;
  tags: string[];
}

export interface SolveDeps {
  store: Store;
  /** Where <run_id>.diff and <run_id>.solve.json go. */
  resultsDir: string;
  log(message: string): void;
  signal?: AbortSignal;
  /** Told about each step as it is taken (a live trace). */
  onStep?: StepListener;
  /** The models, connected and checked already (a repository suite's, once for all its instances). */
  backends?: ReadonlyMap<string, ModelBackend>;
  /**
   * Record the solve as one experiment of this existing run (a repository suite's benchmark run)
   * instead of a new run of kind solve. The run is left open, and a solve that stops records
   * nothing, so the benchmark's --resume does it again.
   */
  benchmarkRun?: { runId: string; experiment: Pick<ExperimentRecord, "suite" | "category" | "tags"> };
}

/** What `koderz solve` prints, and writes to results/<run_id>.solve.json. */
export interface SolveReport {
  /** The JSON contract's version (every top-level JSON document koderz writes carries it). */
  schemaVersion: 1;
  runId: string;
  experimentId: string;
  taskId: string;
  title: string;
  /** The mode chosen (--mode, or the policy); with --ladder, the mode the climb started in. */
  mode: SolveMode;
  /** solved, not solved, or unverified (nothing showed the issue before the change). */
  status: GradeStatus;
  success: boolean;
  verdict: string;
  diffPath: string;
  reportPath: string;
  filesChanged: string[];
  testCommand: string;
  /** Test runs during the whole solve: baseline, the agents' run_tests, checks and grading. */
  testRuns: number;
  /** Passed and failed tests in the final run of the whole suite (or, with a hidden test patch, of the named tests); null when not counted. */
  finalTests: { passed: number; failed: number } | null;
  /** The whole suite before and after the change: per file, new failures by id, flaky tests, the reproduction; null with a hidden test patch. */
  grade: ReportedGrade | null;
  failToPass: { passing: number; total: number };
  passToPass: { passing: number; total: number };
  toolCalls: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  wallSeconds: number;
  /** The agent that ended the solve early, or null. */
  stoppedBy: string | null;
  review: { accept: boolean; feedback: string } | null;
  /** --apply: what was committed; null when nothing was. */
  applied: { branch: string; commit: string; forced: boolean } | null;
  /** --apply on a change that is not solved, without --force: nothing was committed; what would have been. null otherwise. */
  notApplied: { reason: string; files: string[]; branch: string } | null;
  /** --ladder: the rungs, how many were climbed, and what each rung that ran did; null without a ladder. */
  ladder: { rungs: string; escalations: number; climbed: ClimbedRung[] } | null;
}

/** The grade as the report gives it: a reproduction that was not run, and a tail not kept, are null. */
export type ReportedGrade = Omit<SuiteGrade, "reproduction"> & {
  reproduction: { tests: string[]; failedBefore: boolean; passesAfter: boolean; beforeTail: string | null; afterTail: string | null } | null;
};

/** A rung of the report (the JSON contract: what a rung did not have is null, never absent). */
export type ClimbedRung = { [K in keyof RungReport]-?: undefined extends RungReport[K] ? Exclude<RungReport[K], undefined> | null : RungReport[K] };

/** What connectSolveModels needs: a solve's request before its issue is read. */
export type SolveModelsRequest = Pick<SolveRequest, "mode" | "ladder" | "models" | "modelConfig" | "replayRunId">;

/**
 * Connects the models a solve may call and checks that they answer, before the issue is read and
 * the repository copied: a server that is down is the commonest mistake, and the quickest to
 * report. An auto solve's mode is the policy's pick from the issue, so every mode it may start
 * in is checked; with a ladder of modes, the rungs above them too. A replay asks no model.
 */
export async function connectSolveModels(request: SolveModelsRequest): Promise<ReadonlyMap<string, ModelBackend>> {
  const { ladder } = request;
  const starts = request.mode !== "auto" ? [request.mode] : ladder ? climbStartModes("repository", ladder) : SOLVE_MODES;
  const preflightModes = request.replayRunId ? [] : [...new Set(starts.flatMap((mode) => (ladder ? rungModes(ladder, mode) : [mode])))];
  return connectModels(solveModels(request), { modelConfig: request.modelConfig, preflightModes, extraModels: ladderModels(ladder) });
}

/** The agents' models: on a ladder of models, its agent calls the first rung's model (every rung's must answer). */
function solveModels({ ladder, models }: SolveModelsRequest): ModelChoice {
  return ladder?.kind === "models" ? { ...models, modelFor: { ...models.modelFor, [ladder.agent]: ladder.models[0]! } } : models;
}

/**
 * One `koderz solve` from issue to patch: decide the test command and the mode, check that the
 * models answer, copy the repository into a container, make sure its tests run at all, let the
 * agents work, then take the diff, grade it and record everything as a run of kind "solve".
 * The user's repository is read, never written, unless --apply asks for a new branch.
 */
export async function runSolveSession(request: SolveRequest, deps: SolveDeps): Promise<SolveReport> {
  // The wall time a user waits: set-up (container, baseline tests) included.
  const started = performance.now();
  const { task } = request;
  if (request.apply && task.checkout.temporary) {
    throw new KoderzError("usage", "--apply needs a local clone to commit on", "pass --repo PATH (a clone of the repository) together with the issue URL or --swe-instance");
  }
  if (request.apply?.branch !== undefined) await checkNewBranch(task.checkout.path, request.apply.branch);
  const uncommitted = await uncommittedChanges(task.checkout);
  if (uncommitted) deps.log(`${task.checkout.path} has ${uncommitted} uncommitted change${uncommitted === 1 ? "" : "s"}: the agents see commit ${task.checkout.commit.slice(0, 12)} only (commit or stash to include them)`);
  const test = request.testCommand
    ? givenTestCommand(request.testCommand)
    : ((task.testFramework && frameworkTestCommand(task.testFramework)) ?? (await detectTestCommand(await filesAt(task.checkout))));
  const { ladder } = request;
  const policy = request.mode === "auto" ? await loadSolvePolicy(request.policyPath, task) : undefined;
  const mode = request.mode === "auto" ? policy!.chooseMode(ladder && climbStartModes("repository", ladder)) : request.mode;
  if (request.mode === "auto") deps.log(`auto: the policy chose ${mode}`);
  if (ladder) deps.log(`auto: ladder ${describeLadder(ladder)}`);
  const models = solveModels(request);
  const backends = deps.backends ?? (await connectSolveModels(request));

  const image = request.image ?? WORKSPACE_IMAGE;
  deps.log(`copying ${task.checkout.commit.slice(0, 12)} into a ${image} container${request.network ? " (with network)" : " (no network)"}`);
  const workspace = await Workspace.open({ repoPath: task.checkout.path, commit: task.checkout.commit, image, network: request.network, signal: deps.signal, log: deps.log });
  try {
    const tests = new WorkspaceTests(workspace, test, request.testTimeoutSeconds);
    const hidden = task.hiddenTestPatch !== undefined ? new HiddenPatchTests(workspace, tests, { ...task, hiddenTestPatch: task.hiddenTestPatch }) : undefined;
    const suite = hidden
      ? undefined
      : new SuiteTests(workspace, test, {
          // A runner koderz cannot split runs whole, under the whole run's limit.
          fileTimeoutSeconds: splitsByFile(test) ? (request.fileTimeoutSeconds ?? DEFAULT_FILE_TIMEOUT_SECONDS) : request.testTimeoutSeconds,
          cacheDir: path.join(deps.resultsDir, "baselines"),
          commit: task.checkout.commit,
          imageId: workspace.imageId,
          log: deps.log,
        });
    let baseline: TestRun;
    if (hidden) {
      baseline = await hiddenPatchBaseline(hidden, deps.log);
      const reason = cannotRunReason({ command: baseline.command, runner: hidden.framework === "pytest" ? "pytest" : "custom" }, baseline);
      if (reason) throw cannotRunError(reason, baseline);
    } else {
      baseline = describeBaseline(await suite!.baseline(), task, test, deps.log);
    }

    const run = deps.benchmarkRun ? deps.store.getRun(deps.benchmarkRun.runId) : createSolveRun(deps.store, request, task, mode, test);
    const experimentId = experimentIdFor(run.runId, mode, task.id);
    const trajectory = new SolveTrajectory(request.budget, deps.onStep);
    trajectory.addCheck("run_tests", baseline.command, baseline.output, baseline.passed, baseline.durationMs);
    deps.log(`run ${run.runId}: ${mode} on ${task.id}`);
    try {
      const { context, backendFor } = solveContext(request, deps, { task, test, workspace, tests, suite, hidden, trajectory, models, backends, runId: run.runId, experimentId });
      const teamContext = { ...context, repoMap: await repositoryMap(workspace) };
      const outcome: SolveOutcome | LadderOutcome = ladder
        ? await climbSolveLadder(teamContext, { ladder, startMode: mode, backend: backendFor, log: deps.log, ...(policy ? { decide: (end: RungEnd) => policy.atRungEnd(end) } : {}) })
        : await SOLVE_PIPELINES[mode](teamContext);
      // The diff is taken before grading: a hidden test patch must not become part of it.
      const diff = await workspace.diff();
      const filesChanged = await workspace.changedFiles();
      const grade = await gradeWorkspace(hidden ? { hidden } : { suite: suite! }, task, { changed: diff.trim() !== "", changedFiles: filesChanged, reproductionTests: outcome.reproductionTests });
      for (const final of grade.runs) trajectory.addCheck("run_tests", final.command, final.output, final.passed, final.durationMs);
      const diffPath = writeResult(deps.resultsDir, `${run.runId}.diff`, diff);
      const wallSeconds = (performance.now() - started) / 1000;
      recordSolve(deps.store, { run, experimentId, task, mode, trajectory, outcome, grade, diff, wallSeconds, auto: request.mode === "auto", extra: deps.benchmarkRun?.experiment });
      if (!deps.benchmarkRun) deps.store.finishRun(run.runId, "finished");
      const { applied, notApplied } = await applyIfSolved(request, task, run.runId, diff, grade, filesChanged, deps.log);
      const report = buildReport({ run, experimentId, task, mode, test, testRuns: tests.runs + (suite?.runs ?? 0), trajectory, outcome, grade, filesChanged, diffPath, wallSeconds, applied, notApplied, resultsDir: deps.resultsDir, ladder });
      writeResult(deps.resultsDir, `${run.runId}.solve.json`, JSON.stringify(report, null, 2) + "\n");
      return report;
    } catch (error) {
      if (deps.benchmarkRun) throw error;
      // What was done is kept for the trace, and the run is marked as stopped.
      if (!deps.store.getExperiment(experimentId)) {
        const message = error instanceof Error ? error.message : String(error);
        recordSolve(deps.store, { run, experimentId, task, mode, trajectory, outcome: { iterations: 0, reproductionTests: [] }, error: message, wallSeconds: (performance.now() - started) / 1000, auto: request.mode === "auto" });
      }
      deps.store.finishRun(run.runId, deps.signal?.aborted ? "interrupted" : "failed");
      throw error;
    }
  } finally {
    await workspace.close();
  }
}

/**
 * A task with a hidden test patch: the harness's run with the patch, which must be able to run
 * (the patch's new tests exist only then), and which PASS_TO_PASS tests pass without it.
 */
async function hiddenPatchBaseline(hidden: HiddenPatchTests, log: (message: string) => void): Promise<TestRun> {
  const { withPatch, report, knownPassing } = await hidden.baseline();
  const count = (list: { success: string[]; failure: string[] }) => `${list.success.length}/${list.success.length + list.failure.length}`;
  log(`tests: \`${clipCommand(withPatch.command)}\` with the hidden test patch, before any change: FAIL_TO_PASS ${count(report.failToPass)} pass, PASS_TO_PASS ${count(report.passToPass)} pass`);
  log(`the agents' work is checked with ${knownPassing.length} PASS_TO_PASS test${knownPassing.length === 1 ? "" : "s"} that pass without the patch${knownPassing.length ? "" : " (none: the whole suite is run instead, unless the Tester writes a reproduction)"}`);
  return withPatch;
}

const MAX_COMMAND_CHARS = 300;
const ERROR_OUTPUT_LINES = 20;

function clipCommand(command: string): string {
  return command.length <= MAX_COMMAND_CHARS ? command : `${command.slice(0, MAX_COMMAND_CHARS)}... (${command.length - MAX_COMMAND_CHARS} more characters)`;
}

/** Names the command and shows the first and last lines of what it printed: enough to see why, short enough to read. */
function cannotRunError(reason: string, run: TestRun): KoderzError {
  const lines = run.output.split("\n").map((line) => (line.length > 200 ? `${line.slice(0, 200)}...` : line));
  const half = ERROR_OUTPUT_LINES / 2;
  const head = lines.length > ERROR_OUTPUT_LINES ? [...lines.slice(0, half), `... (${lines.length - ERROR_OUTPUT_LINES} more lines)`, ...lines.slice(-half)] : lines;
  return new KoderzError(
    "bad_input",
    `the repository's tests cannot run: ${reason}\n$ ${clipCommand(run.command)}\n${head.join("\n")}`,
    "pass the right command with --test-cmd, an image that has what the tests need with --image, or --network if they must download dependencies",
  );
}

const DEFAULT_FILE_TIMEOUT_SECONDS = 60;

/**
 * The suite before the change, told to the user: how many tests in how many files passed, what
 * timed out, and how each named test fares now. A suite none of whose files could run at all is
 * an error (nothing could be graded); the baseline becomes the trace's first check.
 */
function describeBaseline(base: Baseline, task: RepoTask, test: TestCommand, log: (message: string) => void): TestRun {
  const { suite } = base;
  const reasons = suite.files.map((run) => cannotRunReason(test, { exitCode: run.exitCode, timedOut: run.timedOut, output: run.tail ?? "" }));
  if (reasons.every((reason) => reason !== undefined)) throw cannotRunError(reasons[0]!, asTestRun(suite.files[0]!));
  const totals = suiteTotals(suite);
  const timedOut = totals.timedOutFiles.length ? `; ${totals.timedOutFiles.length} file${totals.timedOutFiles.length === 1 ? "" : "s"} timed out after ${suite.fileTimeoutSeconds} s (${totals.timedOutFiles.slice(0, 5).join(", ")}${totals.timedOutFiles.length > 5 ? ", ..." : ""}): not run again unless the change touches them` : "";
  log(`tests before the change: ${totals.tests} tests in ${totals.files} file${totals.files === 1 ? "" : "s"}, ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ""}${base.cached ? " (the baseline of an earlier solve of this commit, command and image)" : ` in ${suite.seconds.toFixed(1)} s`}${timedOut}`);
  // A named test whose file is not in the suite at all is a typo: said before any model is paid.
  const ranFiles = new Set(suite.files.map((run) => run.file));
  const missing = splitsByFile(test) ? [...task.failToPass, ...task.passToPass].filter((id) => namedOutcome(id, base.outcomes) === undefined && !ranFiles.has(fileOf(id))) : [];
  if (missing.length) {
    throw new KoderzError(
      "bad_input",
      `no such test in the repository's suite: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ` and ${missing.length - 5} more` : ""} (the suite's test files are ${[...ranFiles].slice(0, 5).join(", ")}${ranFiles.size > 5 ? ", ..." : ""})`,
      "name tests as the runner does (pytest: path/to/test_file.py::test_name) in --fail-to-pass and --pass-to-pass",
    );
  }
  for (const id of task.failToPass) {
    const now = namedOutcome(id, base.outcomes);
    if (now === undefined) log(`--fail-to-pass ${id}: no test by that name ran before the change (it must exist and pass after)`);
    else if (now === "passed") log(`--fail-to-pass ${id}: it passes already before the change`);
  }
  for (const id of task.passToPass) if (namedOutcome(id, base.outcomes) !== "passed") log(`--pass-to-pass ${id}: it does not pass before the change`);
  const failed = suite.files.some((run) => run.timedOut || run.exitCode !== 0);
  return {
    command: `${suite.command} (each test file, before the change)`,
    passed: !failed,
    exitCode: failed ? 1 : 0,
    timedOut: totals.timedOutFiles.length > 0,
    output: suite.files.map((run) => `${run.file}: ${run.timedOut ? "timed out" : `exit ${run.exitCode}`}${run.tail ? `\n${run.tail}` : ""}`).join("\n"),
    durationMs: suite.seconds * 1000,
  };
}

function asTestRun(run: FileRun): TestRun {
  return { command: run.command, passed: run.exitCode === 0 && !run.timedOut, exitCode: run.exitCode, timedOut: run.timedOut, output: run.tail ?? "", durationMs: run.seconds * 1000 };
}

interface SessionParts {
  task: RepoTask;
  test: TestCommand;
  workspace: Workspace;
  tests: WorkspaceTests;
  suite?: SuiteTests;
  hidden?: HiddenPatchTests;
  trajectory: SolveTrajectory;
  /** The models each agent calls (a ladder of models' first rung included). */
  models: ModelChoice;
  backends: ReadonlyMap<string, ModelBackend>;
  runId: string;
  experimentId: string;
}

/** The agents' context, and a backend logged the same way for each model a ladder's rung names. */
function solveContext(request: SolveRequest, deps: SolveDeps, parts: SessionParts): { context: Omit<SolveContext, "repoMap">; backendFor(model: string): ModelBackend } {
  const { task, workspace, tests, suite, hidden } = parts;
  const { replayRunId } = request;
  const callLog = deps.store.callLog({ runId: parts.runId, experimentId: parts.experimentId, scope: replayRunId ? "replay" : "cache", replayRunId });
  const logged = (backend: ModelBackend) => withCallLog(backend, callLog, replayRunId ? "replay" : request.cache ? "cache" : "record");
  const models = backendsByAgent(parts.models, parts.backends, logged);
  const issue = publicIssue(task, parts.test.command);
  // The orchestrator's checks run the named tests, the Tester's reproduction and the test files the
  // change touches, against the baseline (the whole suite runs once, for the grade). With a
  // hidden test patch they run the known PASS_TO_PASS tests and the Tester's reproduction.
  const named = [...issue.knownFailingTests, ...task.passToPass];
  const check = async (reproductionTests: readonly string[]): Promise<TestRun> =>
    (hidden ? await hidden.check(reproductionTests) : undefined) ?? (suite ? suite.check([...new Set([...named, ...reproductionTests])], await workspace.changedFiles()) : tests.run());
  const tools: ToolContext = { workspace, runTests: (ids) => tests.run(ids) };
  const context = {
    issue,
    models,
    tools,
    trajectory: parts.trajectory,
    check,
    diff: () => workspace.diff(),
    debugRounds: request.debugRounds,
    signal: deps.signal,
  };
  return { context, backendFor: (model) => logged(parts.backends.get(model)!) };
}

function createSolveRun(store: Store, request: SolveRequest, task: RepoTask, mode: SolveMode, test: TestCommand): RunRecord {
  const run: RunRecord = {
    runId: newRunId("solve"),
    kind: "solve",
    mode: request.mode,
    label: task.title.slice(0, 80),
    startTime: new Date().toISOString(),
    config: {
      task: { id: task.id, source: task.source, title: task.title, repository: task.checkout.path, commit: task.checkout.commit },
      mode: request.mode,
      chosenMode: mode,
      ...(request.ladder ? { ladder: request.ladder } : {}),
      localModel: request.models.localModel,
      frontierModel: request.models.frontierModel,
      modelFor: request.models.modelFor,
      testCommand: test.command,
      image: request.image ?? WORKSPACE_IMAGE,
      network: request.network,
      budget: request.budget,
      debugRounds: request.debugRounds,
      cache: request.cache,
      apply: request.apply !== undefined,
    },
    tags: ["solve_run", `source:${task.source}`, ...request.tags],
    status: "running",
  };
  store.createRun(run);
  return run;
}

interface SolveRecord {
  run: RunRecord;
  experimentId: string;
  task: RepoTask;
  mode: SolveMode;
  trajectory: SolveTrajectory;
  outcome: SolveOutcome | LadderOutcome;
  grade?: Grade;
  diff?: string;
  error?: string;
  wallSeconds: number;
  /** --mode auto: the mode the policy chose is tagged, as a benchmark's auto experiments are. */
  auto?: boolean;
  /** A benchmark run's suite, category and tags for the experiment. */
  extra?: Pick<ExperimentRecord, "suite" | "category" | "tags">;
}

function recordSolve(store: Store, record: SolveRecord): void {
  const { trajectory, grade } = record;
  const steps = trajectory.steps.map((step, index) => ({ ...step, experimentId: record.experimentId, index }));
  store.recordExperiment(
    {
      experimentId: record.experimentId,
      runId: record.run.runId,
      problemId: record.task.id,
      arm: record.mode,
      success: grade?.success ?? false,
      iterations: record.outcome.iterations,
      inputTokens: sum(steps.map((s) => s.inputTokens)),
      outputTokens: sum(steps.map((s) => s.outputTokens)),
      costUsd: sum(steps.map((s) => s.costUsd)),
      wallSeconds: record.wallSeconds,
      finalCode: record.diff,
      verdict: record.error ? `error: ${record.error}` : (grade?.verdict ?? "failed"),
      ...record.extra,
      tags: [
        `source:${record.task.source}`,
        ...(record.outcome.stoppedBy ? ["stopped_by_budget"] : []),
        ...(record.auto ? [chosenModeTag(record.mode)] : []),
        ...("escalations" in record.outcome ? [escalationsTag(record.outcome.escalations)] : []),
        ...(record.extra?.tags ?? []),
      ],
    },
    steps,
  );
}

/**
 * --apply commits a solved change only. An unverified or regressing one needs --force too; without
 * it nothing is committed, and the user is told what would have been (the files, the branch).
 */
async function applyIfSolved(
  request: SolveRequest,
  task: RepoTask,
  runId: string,
  diff: string,
  grade: Grade,
  filesChanged: string[],
  log: (message: string) => void,
): Promise<{ applied?: SolveReport["applied"]; notApplied?: SolveReport["notApplied"] }> {
  if (!request.apply) return {};
  if (!diff.trim()) {
    log("--apply: nothing to commit, the agents changed nothing");
    return {};
  }
  const branch = request.apply.branch ?? `koderz/${runId}`;
  const forced = grade.status !== "solved";
  if (forced && !request.apply.force) {
    const reason = `the change is ${grade.status} (${grade.verdict.replace(/^[^:]*: /, "")})`;
    log(`--apply: nothing committed: ${reason}; --apply --force would commit ${filesChanged.join(", ")} on a new branch ${branch}`);
    return { notApplied: { reason, files: filesChanged, branch } };
  }
  if (forced) log(`--apply --force: committing a change that is ${grade.status}: ${filesChanged.join(", ")} on ${branch}`);
  const commit = await commitOnNewBranch({
    repoPath: task.checkout.path,
    baseCommit: task.checkout.commit,
    diff,
    branch,
    message: `${task.title}\n\n${forced ? `Does not resolve ${task.id} yet (${grade.status}).` : `Resolves ${task.id}.`}\nMade by koderz solve, run ${runId}.`,
  });
  return { applied: { ...commit, forced } };
}

interface ReportParts {
  run: RunRecord;
  experimentId: string;
  task: RepoTask;
  mode: SolveMode;
  test: TestCommand;
  testRuns: number;
  trajectory: SolveTrajectory;
  outcome: SolveOutcome | LadderOutcome;
  grade: Grade;
  filesChanged: string[];
  diffPath: string;
  wallSeconds: number;
  applied?: SolveReport["applied"];
  notApplied?: SolveReport["notApplied"];
  resultsDir: string;
  ladder?: Ladder;
}

function buildReport(parts: ReportParts): SolveReport {
  const { task, grade, trajectory, outcome } = parts;
  const steps = trajectory.steps;
  return {
    schemaVersion: 1,
    runId: parts.run.runId,
    experimentId: parts.experimentId,
    taskId: task.id,
    title: task.title,
    mode: parts.mode,
    status: grade.status,
    success: grade.success,
    verdict: grade.verdict,
    diffPath: parts.diffPath,
    reportPath: path.join(parts.resultsDir, `${parts.run.runId}.solve.json`),
    filesChanged: parts.filesChanged,
    testCommand: parts.test.command,
    testRuns: parts.testRuns,
    finalTests: grade.counts ?? null,
    grade: grade.suite ? reportedGrade(grade.suite) : null,
    failToPass: { passing: grade.failToPass.passing.length, total: task.failToPass.length },
    passToPass: { passing: grade.passToPass.passing.length, total: task.passToPass.length },
    toolCalls: trajectory.toolCalls,
    modelCalls: trajectory.modelCalls,
    inputTokens: sum(steps.map((s) => s.inputTokens)),
    outputTokens: sum(steps.map((s) => s.outputTokens)),
    costUsd: sum(steps.map((s) => s.costUsd)),
    wallSeconds: parts.wallSeconds,
    stoppedBy: outcome.stoppedBy ?? null,
    review: outcome.review ?? null,
    applied: parts.applied ?? null,
    notApplied: parts.notApplied ?? null,
    ladder:
      parts.ladder && "escalations" in outcome
        ? {
            rungs: describeLadder(parts.ladder),
            escalations: outcome.escalations,
            climbed: outcome.rungs.map((rung) => ({ ...rung, agent: rung.agent ?? null, model: rung.model ?? null, tests: rung.tests ?? null })),
          }
        : null,
  };
}

function reportedGrade({ reproduction, ...rest }: SuiteGrade): ReportedGrade {
  return { ...rest, reproduction: reproduction ? { ...reproduction, beforeTail: reproduction.beforeTail ?? null, afterTail: reproduction.afterTail ?? null } : null };
}

/** The base commit's files, read with git: detection needs no container. */
async function filesAt(checkout: RepoCheckout): Promise<RepoFiles> {
  const git = simpleGit(checkout.path);
  const paths = (await git.raw(["ls-tree", "-r", "--name-only", checkout.commit])).split("\n").filter(Boolean);
  return { paths, read: (file) => git.show([`${checkout.commit}:${file}`]).catch(() => undefined) };
}

/** Written to a temporary file and renamed, so no reader sees half a file. */
function writeResult(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, text);
  renameSync(partial, file);
  return file;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
