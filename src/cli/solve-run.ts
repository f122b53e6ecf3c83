import { connectEngine } from "../../sandbox/engine.js";
import { requireImage } from "../../sandbox/workspace.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../../sandbox/workspace-image.js";
import { loadGithubIssue } from "../../tasks/github-issue.js";
import { loadLocalIssue } from "../../tasks/local-issue.js";
import type { RepoTask } from "../../tasks/repo-task.js";
import { loadSweInstance } from "../../tasks/swe-instance.js";
import { loadModelConfig } from "../llm/index.js";
import { parseModelFor } from "../orchestrator/agent-models.js";
import { parseLadder } from "../orchestrator/ladder.js";
import type { SuiteGrade } from "../orchestrator/solve/grade.js";
import { connectSolveModels, runSolveSession, type SolveReport, type SolveRequest } from "../orchestrator/solve/solve-session.js";
import type { StepDraft } from "../orchestrator/trajectory.js";
import { checkPrerequisites } from "../prerequisites.js";
import { MODEL_CALL, openStore } from "../store/index.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { formatDollars } from "./table.js";
import type { InputSource } from "./solve-flags.js";
import type { SolveFlags } from "./solve-options.js";

/** `koderz solve` once its flags are checked (checkSolveInputs said where the issue comes from). */
export async function runSolveCommand(issueUrl: string | undefined, source: InputSource, flags: SolveFlags): Promise<void> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const ladder = flags.ladder === undefined ? undefined : parseLadder(flags.ladder, loadModelConfig({ path: flags.config }));
  if (flags.buildImage) {
    // Built once per content: an image already built from the same packages and settings is kept.
    await buildWorkspaceImage({ name: flags.image, onProgress: log });
  }
  if (source === "none") return;
  const request = { ...solveRequest(flags), ...(ladder ? { ladder } : {}) };
  const modelConfig = loadModelConfig({ path: flags.config });
  const store = openStore({ path: flags.db });
  const interrupt = interruptOnCtrlC("interrupted: stopping now", log);
  // SIGTERM (a service manager, a CI timeout, kill) stops the solve as Ctrl-C does: the run is
  // marked interrupted and the workspace container removed, instead of dying mid-way.
  const terminate = new AbortController();
  const onSigterm = () => {
    log("terminated: stopping now");
    terminate.abort();
  };
  process.once("SIGTERM", onSigterm);
  const signal = AbortSignal.any([interrupt.signal, terminate.signal]);
  try {
    // The models, the issue and its repository, and the workspace engine and image are checked
    // together: one error lists every one that is missing, each with its fix (src/prerequisites.ts).
    const [backends, task] = await checkPrerequisites([
      { what: "models", check: () => connectSolveModels({ ...request, modelConfig }) },
      { what: "issue", check: () => loadTask(source, issueUrl, flags), release: (loaded: RepoTask) => loaded.checkout.dispose() },
      { what: "sandbox", check: async () => void (await requireImage(connectEngine(), flags.image ?? WORKSPACE_IMAGE)) },
    ] as const);
    try {
      log(`solving ${task.id}: ${task.title}`);
      const deps = { store, backends, resultsDir: flags.resultsDir, log, signal, onStep: (step: StepDraft) => log(traceLine(step)) };
      const report = await runSolveSession({ ...request, task, modelConfig }, deps);
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report));
      if (!report.success) process.exitCode = 1;
    } finally {
      await task.checkout.dispose();
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    // Whatever the stop looked like inside (a model call cut, a command stopped), it was the user's.
    log(`stopped: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = terminate.signal.aborted ? 143 : 130;
  } finally {
    process.off("SIGTERM", onSigterm);
    interrupt.dispose();
    store.close();
  }
}

function solveRequest(flags: SolveFlags): Omit<SolveRequest, "task" | "modelConfig"> {
  return {
    mode: flags.mode,
    policyPath: flags.policy,
    models: { localModel: flags.localModel, frontierModel: flags.frontierModel, modelFor: parseModelFor(flags.modelFor) },
    image: flags.image,
    network: flags.network,
    testCommand: flags.testCmd,
    testTimeoutSeconds: flags.testTimeout,
    fileTimeoutSeconds: flags.testFileTimeout,
    budget: { maxToolCalls: flags.maxToolCalls, maxTokens: flags.maxTokens, maxUsd: flags.maxUsd, maxSeconds: flags.maxSeconds },
    debugRounds: flags.debugRounds,
    ...(flags.apply ? { apply: { branch: flags.branch, force: flags.force } } : {}),
    cache: flags.cache,
    tags: flags.tags ? flags.tags.split(",").map((t) => t.trim()).filter(Boolean) : [],
  };
}

function loadTask(source: Exclude<InputSource, "none">, issueUrl: string | undefined, flags: SolveFlags): Promise<RepoTask> {
  const tests = { failToPass: flags.failToPass, passToPass: flags.passToPass };
  const token = process.env.GITHUB_TOKEN || undefined;
  switch (source) {
    case "github":
      return loadGithubIssue({ url: issueUrl!, commit: flags.commit, token, apiBaseUrl: process.env.GITHUB_API_URL || undefined, repoPath: flags.repo, ...tests });
    case "swe":
      return loadSweInstance({ file: flags.sweInstance!, instanceId: flags.instanceId, repoPath: flags.repo, token });
    case "local":
      return loadLocalIssue({ repoPath: flags.repo!, issueFile: flags.issue!, commit: flags.commit, ...tests });
  }
}

/** One stderr line per step, so a user sees the agents work: what each agent said or called, and what came back. */
function traceLine(step: StepDraft): string {
  const oneLine = (text: string | undefined, width: number) => {
    const flat = (text ?? "").replace(/\s+/g, " ").trim();
    return flat.length > width ? `${flat.slice(0, width - 3)}...` : flat;
  };
  const detail = step.model ? oneLine(step.response, 100) : `${oneLine(step.prompt, 60)} => ${oneLine(step.response, 40)}`;
  const who = step.action === MODEL_CALL ? step.agent : `${step.agent} ${step.action}`;
  return `  ${who.padEnd(18)} ${detail}`;
}

function renderReport(report: SolveReport): string {
  const named = (what: { passing: number; total: number }, verb: string) => (what.total ? `${what.passing}/${what.total} ${verb}` : "none named");
  const lines = [
    `run ${report.runId}: ${report.taskId} (${modesRun(report)}): ${report.status}`,
    `  verdict        ${report.verdict}`,
    `  files changed  ${report.filesChanged.length ? report.filesChanged.join(", ") : "none"}`,
    ...(report.grade ? suiteLines(report.grade, report.testRuns) : [`  tests          \`${report.testCommand}\` on the instance's named tests: ${report.finalTests ? `${report.finalTests.passed} passed, ${report.finalTests.failed} failed` : "see the report"} (${report.testRuns} test runs in all)`]),
    `  FAIL_TO_PASS   ${named(report.failToPass, "now passing")}`,
    `  PASS_TO_PASS   ${named(report.passToPass, "still passing")}`,
    ...(report.grade ? changeLines(report.grade) : []),
    `  agents         ${report.modelCalls} model calls, ${report.toolCalls} tool calls${report.stoppedBy ? `, stopped by the ${report.stoppedBy}` : ""}`,
    `  tokens         ${report.inputTokens} in, ${report.outputTokens} out; cost ${formatDollars(report.costUsd)}; ${report.wallSeconds.toFixed(1)} s`,
    ...(report.review ? [`  review         ${report.review.accept ? "ACCEPT" : "REJECT"}: ${report.review.feedback.split("\n")[0]}`] : []),
    ...(report.ladder ? ladderLines(report.ladder) : []),
    `  patch          ${report.diffPath}`,
    ...(report.applied ? [`  applied        branch ${report.applied.branch}, commit ${report.applied.commit.slice(0, 12)}${report.applied.forced ? ` (--force: the change is ${report.status})` : ""}`] : []),
    ...(report.notApplied ? [`  not applied    ${report.notApplied.reason}; --apply --force would commit ${report.notApplied.files.join(", ")} on ${report.notApplied.branch}`] : []),
  ];
  return lines.join("\n") + "\n";
}

const FILE_LINES = 12;

/** What ran: the command, the suite before and after in tests and files, and the files that did not pass. */
function suiteLines(grade: NonNullable<SolveReport["grade"]>, testRuns: number): string[] {
  const totals = (t: SuiteGrade["after"]) =>
    `${t.tests} test${t.tests === 1 ? "" : "s"} in ${t.files} file${t.files === 1 ? "" : "s"}: ${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""}${t.timedOutFiles.length ? `, ${t.timedOutFiles.length} file${t.timedOutFiles.length === 1 ? "" : "s"} timed out` : ""}`;
  const width = Math.min(40, Math.max(...grade.afterFiles.map((f) => f.file.length), 4));
  // Files with a failure or a time-out first; passing ones are summed up past a screenful.
  const files = [...grade.afterFiles].sort((a, b) => Number(b.failed > 0 || b.timedOut) - Number(a.failed > 0 || a.timedOut));
  const shown = files.slice(0, FILE_LINES).map((f) => `                 ${f.file.padEnd(width)}  ${f.timedOut ? `timed out after ${grade.fileTimeoutSeconds} s` : `${f.passed} passed${f.failed ? `, ${f.failed} failed` : ""}${f.skipped ? `, ${f.skipped} skipped` : ""}`}`);
  const rest = files.slice(FILE_LINES);
  return [
    `  test command   \`${grade.command}\`, each test file on its own (at most ${grade.fileTimeoutSeconds} s each)`,
    `  before         ${totals(grade.before)}${grade.before.cached ? " (an earlier solve's baseline of this commit)" : ""}`,
    `  after          ${totals(grade.after)}; ${testRuns} test runs in all`,
    ...shown,
    ...(rest.length ? [`                 ... ${rest.length} more file${rest.length === 1 ? "" : "s"}, ${rest.reduce((n, f) => n + f.passed, 0)} tests passed`] : []),
  ];
}

/** What the change did to the suite: new failures by id, flaky and timed-out tests, the reproduction. */
function changeLines(grade: NonNullable<SolveReport["grade"]>): string[] {
  const list = (ids: readonly string[]) => (ids.length > 10 ? `${ids.slice(0, 10).join(", ")}, ... (${ids.length} in all, see the report)` : ids.join(", "));
  const repro = grade.reproduction;
  return [
    `  new failures   ${grade.newFailures.length ? list(grade.newFailures.map((f) => (f.why === "fails" ? f.id : `${f.id} (${f.why})`))) : "none"}`,
    ...(grade.fixed.length ? [`  fixed          ${list(grade.fixed)}`] : []),
    ...(grade.flaky.length ? [`  flaky          ${list(grade.flaky)} (passed and failed in two runs of the same code; not counted)`] : []),
    ...(grade.alreadyPassing.length ? [`  note           --fail-to-pass ${list(grade.alreadyPassing)} passed before the change too`] : []),
    ...(grade.before.timedOutFiles.length ? [`  timed out      ${list(grade.before.timedOutFiles)} (before the change${grade.notRunAgain.length ? `; ${grade.notRunAgain.length} not run again` : ""})`] : []),
    ...(repro ? [`  reproduction   ${repro.tests.join(", ")}: ${repro.failedBefore ? "fails" : "passes"} without the change, ${repro.passesAfter ? "passes" : "fails"} with it`] : []),
  ];
}

/** The mode, or on a ladder of modes the modes the climb ran. */
function modesRun(report: SolveReport): string {
  return report.ladder ? [...new Set(report.ladder.climbed.map((rung) => rung.mode))].join(" > ") : report.mode;
}

/** The ladder's rungs and what each rung that ran did: its tests, its dollars and tokens. */
function ladderLines(ladder: NonNullable<SolveReport["ladder"]>): string[] {
  const rungs = ladder.climbed.map((rung) => {
    const what = rung.model ? `${rung.mode}, ${rung.agent}=${rung.model}` : rung.mode;
    const tests = rung.tests ? `tests ${rung.tests}` : "graded (the verdict above)";
    return `  ${`rung ${rung.rung}`.padEnd(15)}${what}: ${tests}; ${formatDollars(rung.costUsd)}, ${rung.tokens} tokens`;
  });
  return [`  ladder         ${ladder.rungs}: ${ladder.escalations} escalation${ladder.escalations === 1 ? "" : "s"}`, ...rungs];
}
