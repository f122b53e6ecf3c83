import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { z } from "zod";
import { checkWritableDir } from "../output-file.js";
import path from "node:path";
import cliProgress from "cli-progress";
import { KoderzError } from "../errors.js";
import { chooseDefaultModels, loadModelConfig, type ModelConfig } from "../llm/index.js";
import type { ProblemChoice } from "../orchestrator/benchmark-config.js";
import { parseLadder } from "../orchestrator/ladder.js";
import { runBenchmarkSession, type AutoSummary, type SessionDeps, type SessionRequest } from "../orchestrator/benchmark-session.js";
import type { Budget } from "../orchestrator/budget.js";
import { parseModelFor, type ModelChoice } from "../orchestrator/agent-models.js";
import { escalationFigures, knownFigures, openStore, resolveRun, resolveDbPath, runTitle, type ArmTotals, type KnownFigures, type RunLock, type RunRecord, type Store } from "../store/index.js";
import { compareRuns } from "../report/compare.js";
import { renderPairs } from "./compare-action.js";
import { selectRange } from "../../tasks/load.js";
import { builtInSuitesDir, loadSuiteDefinition } from "../../tasks/suite-file.js";
import { readSweSuite } from "../../tasks/swe-suite.js";
import { checkPolicyFlags, parseImageFor, parseRange, type ModelsGivenRaw } from "./benchmark-flags.js";
import { BenchmarkOptions, type BenchmarkFlags, type ModelFlags } from "./benchmark-options.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { parseOptions } from "./parse.js";
import { renderSuiteFigures } from "./suite-tables.js";
import { renderEscalations } from "./escalation-table.js";
import { etaSeconds, formatEta, plainProgress } from "./progress-line.js";
import { formatCount, formatDollars, formatPercent, renderTable } from "./table.js";

/** `koderz benchmark` once its flags are checked: models, dataset, sandbox and the run itself. */
export async function runBenchmarkAction(start: string | undefined, end: string | undefined, raw: ModelsGivenRaw, modeGiven: boolean): Promise<void> {
  const flags = parseOptions(BenchmarkOptions, await withDefaultModels(raw));
  // Before anything is read or stored: a model that cannot do the run's work stops it here.
  if (flags.doctor && !flags.resume && !flags.replay) await doctorPreflight(flags);
  const request = flags.suite ? await suiteRunRequest(start, end, flags, modeGiven) : await sessionRequest(start, end, flags);
  if (flags.queue) {
    const { runQueuedBenchmarkCommand } = await import("./benchmark-queue.js");
    return runQueuedBenchmarkCommand(request, { ...flags, queue: flags.queue }, (runId, arms) => renderArms(runId, { cost: true, tokens: true }, arms));
  }
  await runBenchmarkCommand(request, flags);
}

/** `benchmark --doctor`: `koderz doctor --quick` on every model the flags name, its tables on stderr (stdout is the run's data). */
async function doctorPreflight(flags: BenchmarkFlags): Promise<void> {
  const { runDoctor, renderDoctor, failIfAnyFailed } = await import("./doctor-run.js");
  const choice = modelChoice(flags);
  const models = [choice.localModel, choice.frontierModel, ...Object.values(choice.modelFor)].filter((model): model is string => typeof model === "string");
  const reports = await runDoctor(models, {
    config: withLlamaThreads(loadModelConfig(flags.config ? { path: flags.config } : {}), flags),
    quick: true,
    onModel: (model) => process.stderr.write(`doctor: checking ${model} ...\n`),
  });
  process.stderr.write(renderDoctor(reports));
  failIfAnyFailed(reports);
}

/** --threads: each llama: model the flags name gets that many CPU threads, over the config file's. */
export function withLlamaThreads(config: ModelConfig, flags: ModelFlags): ModelConfig {
  if (!flags.threads) return config;
  const models = { ...config.models };
  for (const id of [flags.localModel, flags.frontierModel, ...Object.values(parseModelFor(flags.modelFor))]) {
    if (id?.startsWith("llama:")) models[id] = { ...models[id], threads: flags.threads };
  }
  return { ...config, models };
}

/**
 * Fills in models the user did not name when the usual defaults cannot work on this machine
 * (the embedded default, see chooseDefaultModels) and says so in one line on stderr.
 */
export async function withDefaultModels<T extends ModelsGivenRaw>(raw: T): Promise<T> {
  // A resumed or replayed run keeps the models it was stored with.
  if (raw.resume || raw.replay) return raw;
  const choice = await chooseDefaultModels(
    { ...(raw.localModel ? { localModel: raw.localModel } : {}), ...(raw.frontierModel ? { frontierModel: raw.frontierModel } : {}) },
    { config: loadModelConfig(raw.config ? { path: raw.config } : {}) },
  );
  if (choice.notice) process.stderr.write(`${choice.notice}\n`);
  return { ...raw, ...(choice.localModel ? { localModel: choice.localModel } : {}), ...(choice.frontierModel ? { frontierModel: choice.frontierModel } : {}) };
}

/** The models and settings a ModelFlags names, in the shape runs store them. */
export function modelChoice(flags: ModelFlags): ModelChoice {
  return { localModel: flags.localModel, frontierModel: flags.frontierModel, modelFor: parseModelFor(flags.modelFor) };
}

export function budgetOf(flags: ModelFlags): Budget {
  return { maxSteps: flags.maxSteps, maxTokens: flags.maxTokens, maxUsd: flags.maxUsd, maxSeconds: flags.maxSeconds };
}

async function sessionRequest(start: string | undefined, end: string | undefined, flags: BenchmarkFlags): Promise<SessionRequest> {
  if (flags.resume) return { kind: "resume", runId: flags.resume };
  if (flags.replay) return { kind: "replay", sourceRunId: flags.replay, tags: extraTags(flags) };
  // The dataset is read by the session once the models have answered: a server that is down is
  // reported before HumanEval+ is read.
  return newRunRequest(flags, { problemRange: parseRange(start, end) });
}

/** `--suite NAME|PATH [START END]`: a suite file's cases (or its dataset), with its solver's mode unless --mode was given. */
async function suiteRunRequest(start: string | undefined, end: string | undefined, flags: BenchmarkFlags, modeGiven: boolean): Promise<SessionRequest> {
  if (flags.repos !== undefined) return repoSuiteRunRequest(start, end, flags, modeGiven);
  const suite = await loadSuiteDefinition(flags.suite!, { dataset: flags.dataset === "humaneval" ? undefined : flags.dataset });
  const mode = modeGiven || !suite.solverMode ? flags.mode : parseOptions(BenchmarkOptions.pick({ mode: true }), { mode: suite.solverMode }).mode;
  if (mode === "auto" && suite.tasks.some((task) => task.scoring && task.scoring.scorer !== "tests")) {
    throw new KoderzError("usage", `--mode auto is trained on hidden-test verdicts; suite ${suite.name} is scored by other scorers`, "pick a fixed mode: fast, standard, deep, zero-shot, iterative or comparative");
  }
  const range: [number, number] = start === undefined && end === undefined ? [0, suite.tasks.length] : parseRange(start, end);
  const tasks = selectRange(suite.tasks, range[0], range[1]);
  const request = newRunRequest({ ...flags, mode }, { problemRange: range, problemIds: tasks.map((t) => t.id) });
  if (request.kind !== "new") return request;
  // A path is kept absolute so --resume finds it from any directory; a built-in suite by its name.
  const suiteSource = suite.file.startsWith(builtInSuitesDir()) ? suite.name : suite.file;
  return { ...request, config: { ...request.config, suite: suite.name, suiteSource } };
}

/** `--suite INSTANCES.jsonl --repos DIR [START END]`: SWE-bench instances, each solved as `koderz solve --swe-instance` does. */
async function repoSuiteRunRequest(start: string | undefined, end: string | undefined, flags: BenchmarkFlags, modeGiven: boolean): Promise<SessionRequest> {
  const suite = await readSweSuite(flags.suite!);
  // solve's default; the session refuses a mode solve does not have before anything runs.
  const mode = modeGiven ? flags.mode : "standard";
  const range: [number, number] = start === undefined && end === undefined ? [0, suite.instances.length] : parseRange(start, end);
  const instances = selectRange(suite.instances.map((instance, index) => ({ id: instance.instance_id, index })), range[0], range[1]);
  const request = newRunRequest({ ...flags, mode }, { problemRange: range, problemIds: instances.map((instance) => instance.id) });
  if (request.kind !== "new") return request;
  const images = parseImageFor(flags.imageFor);
  const repositories = new Set(suite.instances.map((instance) => instance.repo));
  const stray = Object.keys(images).find((repo) => !repositories.has(repo));
  if (stray) throw new KoderzError("usage", `--image-for names ${stray}, which no instance of ${suite.file} is in`, `name one of its repositories: ${[...repositories].slice(0, 5).join(", ")}`);
  const config = { ...request.config, suite: suite.name, suiteSource: suite.file, reposDir: path.resolve(flags.repos!) };
  return { ...request, config: Object.keys(images).length ? { ...config, images } : config };
}

function datasetChoice(flags: BenchmarkFlags): { suite: "humaneval" | "humaneval+"; datasetPath?: string } {
  if (flags.dataset === "humaneval" || flags.dataset === "humaneval+") return { suite: flags.dataset };
  return { suite: "humaneval", datasetPath: flags.dataset };
}

/** A new run's request from flags: everything is stored with the run for --resume and --replay. */
export function newRunRequest(flags: BenchmarkFlags, problems: ProblemChoice): SessionRequest {
  checkPolicyFlags(flags);
  return {
    kind: "new",
    tags: extraTags(flags),
    stage: flags.stage,
    config: {
      mode: flags.mode,
      ...datasetChoice(flags),
      ...problems,
      ...modelChoice(flags),
      maxIterations: flags.maxIterations,
      checkpointEvery: flags.checkpointEvery,
      trajectories: flags.trajectories,
      debugRounds: flags.debugRounds,
      budget: budgetOf(flags),
      concurrency: flags.concurrency,
      sandbox: flags.sandbox,
      cache: flags.cache,
      // Absolute, so --resume finds the policy from any directory.
      policyPath: flags.policy && path.resolve(flags.policy),
      ...(flags.learn ? { learn: true, policyOutPath: flags.policyOut && path.resolve(flags.policyOut) } : {}),
      ...(flags.config !== undefined ? { modelConfigFile: modelConfigFileOf(flags.config) } : {}),
      ...(flags.ladder !== undefined ? { ladder: parseLadder(flags.ladder, loadModelConfig(flags.config ? { path: flags.config } : {})) } : {}),
    },
  };
}

function extraTags(flags: BenchmarkFlags): string[] {
  return flags.tags ? flags.tags.split(",").map((t) => t.trim()).filter(Boolean) : [];
}

export async function runBenchmarkCommand(request: SessionRequest, flags: BenchmarkFlags, trace?: SessionDeps["onStep"]): Promise<void> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  // Where the summary goes is checked before any model is called: a paid run must have somewhere to land.
  checkWritableDir(flags.resultsDir, "--results-dir");
  const newStore = storeToBeCreated(flags.db);
  const store = openStore({ path: flags.db });
  // A resumed run is locked before its models are checked, so a second --resume spends nothing.
  let lock: RunLock | undefined;
  const interrupt = interruptOnCtrlC("interrupted: finished problems are saved; stopping", log);
  const bar = progressBar();
  try {
    // A run is named by its id or its label.
    if (request.kind === "resume") request = { ...request, runId: resolveRun(store, request.runId).runId };
    if (request.kind === "replay") request = { ...request, sourceRunId: resolveRun(store, request.sourceRunId).runId };
    if (request.kind === "resume") lock = takeRunLock(store, request.runId, log);
    const configPath = request.kind === "resume" ? resumedConfigPath(store.getRun(request.runId), flags.config, log) : flags.config;
    const result = await runBenchmarkSession(request, {
      store,
      // Loaded when the models have answered: Docker's client is not needed to report a missing key.
      openSandbox: async () => (await import("../../sandbox/select.js")).openSandbox(flags.sandbox, { onNotice: log }),
      modelConfig: withLlamaThreads(loadModelConfigAnnounced(configPath, log), flags),
      resultsDir: flags.resultsDir,
      log,
      signal: interrupt.signal,
      onStart: (run, tasks, progress) => {
        lock ??= takeRunLock(store, run.runId, log);
        log(`run ${run.runId}: ${run.mode} on ${tasks.length} problem${tasks.length === 1 ? "" : "s"}${progress.skipped ? ` (${progress.skipped} already done)` : ""}`);
        bar.start(progress.total, progress.skipped);
      },
      onFinished: ({ outcome }) => bar.add(outcome),
      onStep: trace,
    });
    bar.stop();
    log(`summary: ${result.summaryPath}`);
    if (flags.json) process.stdout.write(JSON.stringify(JSON.parse(await readText(result.summaryPath)), null, 2) + "\n");
    else {
      const experiments = store.experiments(result.run.runId);
      process.stdout.write(
        renderArms(runTitle(result.run), knownFigures(result.run), store.armTotals(result.run.runId)) +
          armsAgainstEachOther(store, result.run.runId) +
          renderSuiteFigures(experiments, typeof result.run.config.localModel === "string" ? result.run.config.localModel : undefined) +
          // Read from the store, so a resumed run counts every session's problems.
          renderEscalations(escalationFigures(result.run, experiments)),
      );
    }
    if (result.auto) log(describeAuto(result.auto));
    if (result.status === "interrupted") process.exitCode = 130;
  } finally {
    bar.stop();
    interrupt.dispose();
    lock?.release();
    // A run that failed its checks (a missing key, no sandbox) leaves no empty store behind.
    const removeEmpty = newStore !== undefined && store.listRuns().length === 0;
    store.close();
    if (removeEmpty) newStore.remove();
  }
}

/**
 * The --config file a resumed run uses: the one given, else the one it was started with (its
 * path is stored with the run). A file that changed since is said, with both fingerprints; one
 * that is gone is an error naming it, since its models and prices decided the run's figures.
 */
export function resumedConfigPath(run: RunRecord, given: string | undefined, log: (message: string) => void): string | undefined {
  const stored = StoredConfigFile.safeParse(run.config.modelConfigFile);
  const started = stored.success ? stored.data : undefined;
  if (given !== undefined) {
    const now = modelConfigFileOf(given);
    if (started && now && (now.path !== started.path || now.sha256 !== started.sha256)) {
      log(`note: run ${run.runId} was started with --config ${started.path}; resuming with ${now.path}${now.sha256 === started.sha256 ? " (the same contents)" : ", whose contents differ"}`);
    }
    return given;
  }
  if (!started) return undefined;
  if (!existsSync(started.path)) {
    throw new KoderzError("not_found", `run ${run.runId} was started with --config ${started.path}, which no longer exists`, "pass --config FILE with the models the run used");
  }
  const now = modelConfigFileOf(started.path)!;
  if (now.sha256 !== started.sha256) {
    log(`warning: ${started.path} changed since run ${run.runId} started (sha256 ${started.sha256.slice(0, 12)} then, ${now.sha256.slice(0, 12)} now); resuming with it as it is now`);
  } else {
    log(`run ${run.runId}: using --config ${started.path}, as when it started`);
  }
  return started.path;
}

const StoredConfigFile = z.object({ path: z.string().min(1), sha256: z.string().min(1) });

/** --config as a run stores it: the absolute path and a SHA-256 of what it held, so --resume finds it and notices a change. */
export function modelConfigFileOf(configPath: string | undefined): { path: string; sha256: string } | undefined {
  if (configPath === undefined) return undefined;
  const file = path.resolve(configPath);
  if (!existsSync(file)) return undefined; // loading it says what is wrong
  return { path: file, sha256: createHash("sha256").update(readFileSync(file)).digest("hex") };
}

function takeRunLock(store: Store, runId: string, log: (message: string) => void): RunLock {
  const lock = store.lockRun(runId);
  if (lock.tookOverFrom) log(`run ${runId}: took over the lock of process ${lock.tookOverFrom.pid} (started ${lock.tookOverFrom.startedAt}), which is no longer running`);
  return lock;
}

/** When opening the store at --db will create it: how to take it away again if the command then fails. */
function storeToBeCreated(db: string | undefined): { remove(): void } | undefined {
  const file = resolveDbPath(db);
  if (existsSync(file)) return undefined;
  const dir = path.dirname(file);
  const dirExisted = existsSync(dir);
  return {
    remove: () => {
      for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
      if (dirExisted) return;
      try {
        rmdirSync(dir);
      } catch {
        // not empty: something else was written there meanwhile
      }
    },
  };
}

async function readText(file: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(file, "utf8");
}

/** Live success rate, tokens and cost on a terminal; plain lines every 10 problems or 10 s otherwise. */
function progressBar() {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "[{bar}] {value}/{total} | success {rate} | {tokens} tokens | ${cost} | eta {eta}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const lines = plainProgress("done");
  let done = 0;
  let skippedAtStart = 0;
  let total = 0;
  let successes = 0;
  let tokens = 0;
  let cost = 0;
  let running = false;
  let startedAt = Date.now();
  const payload = () => ({
    rate: done ? `${((100 * successes) / done).toFixed(1)}%` : "-",
    tokens,
    cost: cost.toFixed(4),
    eta: formatEta(etaSeconds(done, total - skippedAtStart - done, (Date.now() - startedAt) / 1000)),
  });
  return {
    start(all: number, skipped: number) {
      total = all;
      skippedAtStart = skipped;
      startedAt = Date.now();
      if (tty) bar.start(all, skipped, payload());
      running = tty;
    },
    add(outcome: { success: boolean; inputTokens: number; outputTokens: number; costUsd: number }) {
      done += 1;
      successes += outcome.success ? 1 : 0;
      tokens += outcome.inputTokens + outcome.outputTokens;
      cost += outcome.costUsd;
      const now = payload();
      if (running) bar.increment(1, now);
      else if (!tty) lines.update(skippedAtStart + done, total, `success ${now.rate}, ${tokens} tokens, $${now.cost}`);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** The mode mix the policy chose and, with --learn, how many updates were saved where. */
function describeAuto(auto: AutoSummary): string {
  const modes = Object.entries(auto.modes).map(([mode, count]) => `${mode} ${count}`).join(", ");
  const learning = auto.learning ? `\n--learn: ${auto.learning.updates} policy update(s), saved to ${auto.learning.savedTo}` : "";
  return `auto: modes chosen by the policy: ${modes}${learning}`;
}

/**
 * A run with several arms (comparative): the second arm against the first, problem by problem,
 * as `koderz compare RUN` shows it: wins, losses, ties, the difference with its 95% interval and
 * McNemar's p. Empty for a run with one arm, or arms that share no problems yet.
 */
function armsAgainstEachOther(store: Store, runId: string): string {
  if (store.armTotals(runId).length < 2) return "";
  try {
    return "\n" + renderPairs(compareRuns(store, [runId]));
  } catch (error) {
    if (error instanceof KoderzError) return ""; // no shared problems yet: nothing to set side by side
    throw error;
  }
}

function renderArms(title: string, known: KnownFigures, arms: ArmTotals[]): string {
  const rows = arms.map((a) => [
    a.arm,
    formatCount(a.experiments),
    formatCount(a.successes),
    formatPercent(a.experiments ? (100 * a.successes) / a.experiments : 0),
    known.tokens ? formatCount(a.inputTokens + a.outputTokens) : "n/a",
    known.cost ? formatDollars(a.costUsd) : "n/a",
    (a.experiments ? a.iterations / a.experiments : 0).toFixed(2),
  ]);
  const table = renderTable(["arm", "problems", "solved", "success", "tokens", "cost", "avg iterations"], rows, ["left", "right", "right", "right", "right", "right", "right"]);
  return `run ${title}\n${table}`;
}
