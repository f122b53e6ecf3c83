import { buildWorkspaceImage } from "../../sandbox/workspace-image.js";
import { loadGithubIssue } from "../../tasks/github-issue.js";
import { loadLocalIssue } from "../../tasks/local-issue.js";
import type { RepoTask } from "../../tasks/repo-task.js";
import { loadSweInstance } from "../../tasks/swe-instance.js";
import { loadModelConfig } from "../llm/index.js";
import { parseModelFor } from "../orchestrator/agent-models.js";
import { parseLadder } from "../orchestrator/ladder.js";
import { connectSolveModels, runSolveSession, type SolveReport, type SolveRequest } from "../orchestrator/solve/solve-session.js";
import type { StepDraft } from "../orchestrator/trajectory.js";
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
    const built = await buildWorkspaceImage({ name: flags.image, onProgress: log });
    log(`${built.name} built in ${built.seconds.toFixed(0)} s`);
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
    // The models answer before the issue is fetched and the repository cloned or copied.
    const backends = await connectSolveModels({ ...request, modelConfig });
    const task = await loadTask(source, issueUrl, flags);
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
    budget: { maxToolCalls: flags.maxToolCalls, maxTokens: flags.maxTokens, maxUsd: flags.maxUsd, maxSeconds: flags.maxSeconds },
    debugRounds: flags.debugRounds,
    ...(flags.apply ? { apply: { branch: flags.branch } } : {}),
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
  const tests = report.finalTests ? `${report.finalTests.passed} passed, ${report.finalTests.failed} failed` : "see the report";
  const named = (what: { passing: number; total: number }, verb: string) => (what.total ? `${what.passing}/${what.total} ${verb}` : "none named");
  const lines = [
    `run ${report.runId}: ${report.taskId} (${modesRun(report)}): ${report.success ? "solved" : "not solved"}`,
    `  verdict        ${report.verdict}`,
    `  files changed  ${report.filesChanged.length ? report.filesChanged.join(", ") : "none"}`,
    `  tests          \`${report.testCommand}\`: ${tests} (${report.testRuns} test runs in all)`,
    `  FAIL_TO_PASS   ${named(report.failToPass, "now passing")}`,
    `  PASS_TO_PASS   ${named(report.passToPass, "still passing")}`,
    `  agents         ${report.modelCalls} model calls, ${report.toolCalls} tool calls${report.stoppedBy ? `, stopped by the ${report.stoppedBy}` : ""}`,
    `  tokens         ${report.inputTokens} in, ${report.outputTokens} out; cost ${formatDollars(report.costUsd)}; ${report.wallSeconds.toFixed(1)} s`,
    ...(report.review ? [`  review         ${report.review.accept ? "ACCEPT" : "REJECT"}: ${report.review.feedback.split("\n")[0]}`] : []),
    ...(report.ladder ? ladderLines(report.ladder) : []),
    `  patch          ${report.diffPath}`,
    ...(report.applied ? [`  applied        branch ${report.applied.branch}, commit ${report.applied.commit.slice(0, 12)}`] : []),
  ];
  return lines.join("\n") + "\n";
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
