import { buildWorkspaceImage } from "../../sandbox/workspace-image.js";
import { loadGithubIssue } from "../../tasks/github-issue.js";
import { loadLocalIssue } from "../../tasks/local-issue.js";
import type { RepoTask } from "../../tasks/repo-task.js";
import { loadSweInstance } from "../../tasks/swe-instance.js";
import { KoderzError } from "../errors.js";
import { loadModelConfig } from "../llm/index.js";
import { parseModelFor } from "../orchestrator/agent-models.js";
import { parseLadder } from "../orchestrator/ladder.js";
import { runSolveSession, type SolveReport, type SolveRequest } from "../orchestrator/solve/solve-session.js";
import type { StepDraft } from "../orchestrator/trajectory.js";
import { MODEL_CALL, openStore } from "../store/index.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { formatDollars } from "./table.js";
import { checkLadderFlag } from "./benchmark-flags.js";
import type { SolveFlags } from "./solve-flags.js";

/** `koderz solve` once its flags are checked. */
export async function runSolveCommand(issueUrl: string | undefined, flags: SolveFlags): Promise<void> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const source = inputSource(issueUrl, flags);
  if (flags.branch && !flags.apply) throw new KoderzError("usage", "--branch only applies with --apply", "add --apply, or leave out --branch");
  if (flags.apply && flags.repo === undefined) throw new KoderzError("usage", "--apply needs a local clone to commit on", "pass --repo PATH (a clone of the repository); the patch is always written to results/ as well");
  // A wrong --ladder is a usage error before any image, container or model is touched.
  checkLadderFlag(flags);
  const ladder = flags.ladder === undefined ? undefined : parseLadder(flags.ladder, loadModelConfig({ path: flags.config }));
  if (flags.buildImage) {
    const built = await buildWorkspaceImage({ name: flags.image, onProgress: log });
    log(`${built.name} built in ${built.seconds.toFixed(0)} s`);
    if (source === "none") return;
  }
  if (source === "none") {
    throw new KoderzError("usage", "nothing to solve", "pass an issue URL, --repo PATH --issue FILE, or --swe-instance FILE");
  }
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
    const task = await loadTask(source, issueUrl, flags);
    try {
      log(`solving ${task.id}: ${task.title}`);
      const deps = { store, resultsDir: flags.resultsDir, log, signal, onStep: (step: StepDraft) => log(traceLine(step)) };
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

type InputSource = "github" | "swe" | "local" | "none";

/** Exactly one way in: an issue URL, a SWE-bench instance, or a local repository with an issue file. */
function inputSource(issueUrl: string | undefined, flags: SolveFlags): InputSource {
  const given = [issueUrl !== undefined && "an issue URL", flags.sweInstance !== undefined && "--swe-instance", flags.issue !== undefined && "--issue"].filter(Boolean);
  if (given.length > 1) throw new KoderzError("usage", `${given.join(" and ")} cannot be combined`, "pass one of: an issue URL, --swe-instance FILE, or --repo PATH --issue FILE");
  if (flags.issue !== undefined && flags.repo === undefined) throw new KoderzError("usage", "--issue needs --repo PATH", "e.g. koderz solve --repo . --issue issue.md");
  if (flags.instanceId !== undefined && flags.sweInstance === undefined) throw new KoderzError("usage", "--instance-id needs --swe-instance FILE", "name the file the instance is in");
  if (issueUrl !== undefined) return "github";
  if (flags.sweInstance !== undefined) return "swe";
  if (flags.issue !== undefined) return "local";
  if (flags.repo !== undefined) throw new KoderzError("usage", "--repo needs an issue", "add --issue FILE, an issue URL, or --swe-instance FILE");
  return "none";
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
      if (flags.commit) throw new KoderzError("usage", "--commit does not apply to --swe-instance", "the instance's base_commit is used");
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
