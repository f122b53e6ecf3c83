import { existsSync, rmdirSync, rmSync } from "node:fs";
import path from "node:path";
import cliProgress from "cli-progress";
import { KoderzError } from "../errors.js";
import { chooseDefaultModels, loadModelConfig, type ModelConfig } from "../llm/index.js";
import type { ProblemChoice } from "../orchestrator/benchmark-config.js";
import { parseLadder } from "../orchestrator/ladder.js";
import { runBenchmarkSession, type AutoSummary, type SessionDeps, type SessionRequest } from "../orchestrator/benchmark-session.js";
import type { Budget } from "../orchestrator/budget.js";
import { parseModelFor, type ModelChoice } from "../orchestrator/agent-models.js";
import { openStore, resolveDbPath, type ArmTotals, type RunLock, type Store } from "../store/index.js";
import { selectRange } from "../../tasks/load.js";
import { builtInSuitesDir, loadSuiteDefinition } from "../../tasks/suite-file.js";
import { readSweSuite } from "../../tasks/swe-suite.js";
import { checkPolicyFlags, parseImageFor, parseRange, type ModelsGivenRaw } from "./benchmark-flags.js";
import { BenchmarkOptions, type BenchmarkFlags, type ModelFlags } from "./benchmark-options.js";
import { interruptOnCtrlC } from "./interrupt.js";
import { loadModelConfigAnnounced } from "./model-config-file.js";
import { parseOptions } from "./parse.js";
import { renderSuiteFigures } from "./suite-tables.js";
import { formatCount, formatDollars, formatPercent, renderTable } from "./table.js";

/** `koderz benchmark` once its flags are checked: models, dataset, sandbox and the run itself. */
export async function runBenchmarkAction(start: string | undefined, end: string | undefined, raw: ModelsGivenRaw, modeGiven: boolean): Promise<void> {
  const flags = parseOptions(BenchmarkOptions, await withDefaultModels(raw));
  // Before anything is read or stored: a model that cannot do the run's work stops it here.
  if (flags.doctor && !flags.resume && !flags.replay) await doctorPreflight(flags);
  const request = flags.suite ? await suiteRunRequest(start, end, flags, modeGiven) : await sessionRequest(start, end, flags);
  if (flags.queue) {
    const { runQueuedBenchmarkCommand } = await import("./benchmark-queue.js");
    return runQueuedBenchmarkCommand(request, { ...flags, queue: flags.queue }, renderArms);
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
      ...(flags.ladder !== undefined ? { ladder: parseLadder(flags.ladder, loadModelConfig(flags.config ? { path: flags.config } : {})) } : {}),
    },
  };
}

function extraTags(flags: BenchmarkFlags): string[] {
  return flags.tags ? flags.tags.split(",").map((t) => t.trim()).filter(Boolean) : [];
}

export async function runBenchmarkCommand(request: SessionRequest, flags: BenchmarkFlags, trace?: SessionDeps["onStep"]): Promise<void> {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const newStore = storeToBeCreated(flags.db);
  const store = openStore({ path: flags.db });
  // A resumed run is locked before its models are checked, so a second --resume spends nothing.
  let lock: RunLock | undefined;
  const interrupt = interruptOnCtrlC("interrupted: finished problems are saved; stopping", log);
  const bar = progressBar();
  try {
    if (request.kind === "resume") lock = takeRunLock(store, request.runId, log);
    const result = await runBenchmarkSession(request, {
      store,
      // Loaded when the models have answered: Docker's client is not needed to report a missing key.
      openSandbox: async () => (await import("../../sandbox/select.js")).openSandbox(flags.sandbox, { onNotice: log }),
      modelConfig: withLlamaThreads(loadModelConfigAnnounced(flags.config, log), flags),
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
    else process.stdout.write(renderArms(result.run.runId, store.armTotals(result.run.runId)) + renderSuiteFigures(store.experiments(result.run.runId), typeof result.run.config.localModel === "string" ? result.run.config.localModel : undefined));
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

/** Live success rate, tokens and cost on a terminal; plain lines every 10 problems otherwise. */
function progressBar() {
  const tty = Boolean(process.stderr.isTTY);
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "[{bar}] {value}/{total} | success {rate} | {tokens} tokens | ${cost} | eta {eta_formatted}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  let skippedAtStart = 0;
  let total = 0;
  let successes = 0;
  let tokens = 0;
  let cost = 0;
  let running = false;
  const payload = () => ({ rate: done ? `${((100 * successes) / done).toFixed(1)}%` : "-", tokens, cost: cost.toFixed(4) });
  return {
    start(all: number, skipped: number) {
      total = all;
      skippedAtStart = skipped;
      if (tty) bar.start(all, skipped, payload());
      running = tty;
    },
    add(outcome: { success: boolean; inputTokens: number; outputTokens: number; costUsd: number }) {
      done += 1;
      successes += outcome.success ? 1 : 0;
      tokens += outcome.inputTokens + outcome.outputTokens;
      cost += outcome.costUsd;
      if (running) bar.increment(1, payload());
      else if (done % 10 === 0) process.stderr.write(`${skippedAtStart + done}/${total} done, success ${payload().rate}, ${tokens} tokens, $${payload().cost}\n`);
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

function renderArms(runId: string, arms: ArmTotals[]): string {
  const rows = arms.map((a) => [
    a.arm,
    formatCount(a.experiments),
    formatCount(a.successes),
    formatPercent(a.experiments ? (100 * a.successes) / a.experiments : 0),
    formatCount(a.inputTokens + a.outputTokens),
    formatDollars(a.costUsd),
    (a.experiments ? a.iterations / a.experiments : 0).toFixed(2),
  ]);
  const table = renderTable(["arm", "problems", "solved", "success", "tokens", "cost", "avg iterations"], rows, ["left", "right", "right", "right", "right", "right", "right"]);
  return `run ${runId}\n${table}`;
}
