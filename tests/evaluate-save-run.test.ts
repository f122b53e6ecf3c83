import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Program, RunOptions, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { openSandbox } from "../sandbox/select.js";
import { buildRunSummary, openStore, runListing, SingleRunSummarySchema, type Store } from "../src/store/index.js";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { ReplayEnvironment } from "../training/replay-environment.js";
import { replayLogFromStore } from "../training/replay-log.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { runEvaluateCli } from "./fixtures/run-evaluate.js";
import { enterOfflineWorkDir } from "./helpers/offline-work-dir.js";

// `koderz evaluate --save-run`: an outside samples file becomes a run in the store. Verdicts and
// docstring-example checks come from the real process sandbox (the point here is the import, not
// isolation; evaluate-docker.test.ts covers Docker). Each test uses its own temp store.

let tasks: Task[];
let work: string;
let restoreEnv: () => void;

beforeAll(async () => {
  tasks = await loadSuiteFile(humanEvalFile, "humaneval");
  ({ dir: work, restore: restoreEnv } = enterOfflineWorkDir("koderz-save-run-"));
  delete process.env.KODERZ_DB;
});
afterAll(() => restoreEnv());

/** The real process sandbox, counting the programs it was given. */
class CountingSandbox implements Sandbox {
  readonly name = "process" as const;
  programs = 0;
  private constructor(private readonly inner: Sandbox) {}
  static async open(): Promise<CountingSandbox> {
    return new CountingSandbox(await openSandbox("process", { onNotice: () => undefined }));
  }
  run(programs: Program[], options?: RunOptions): Promise<Verdict[]> {
    this.programs += programs.length;
    return this.inner.run(programs, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const canonical = (id: string) => tasks.find((t) => t.id === id)!.canonicalSolution;

/**
 * A log of another tool: cost, iterations and (nested) token counts per sample. HumanEval/2's
 * answer passes its one docstring example but not the hidden tests; HumanEval/3 has two samples,
 * and only the first (half its examples, hidden tests failed) is imported.
 */
function outsideLog(): object[] {
  return [
    { task_id: "HumanEval/0", completion: canonical("HumanEval/0"), cost_usd: 0.012, iterations: 3, usage: { prompt_tokens: 900, completion_tokens: 120 } },
    { task_id: "HumanEval/2", completion: "    return 0.5\n", cost_usd: 0.004, iterations: 1, usage: { prompt_tokens: 300, completion_tokens: 20 } },
    { task_id: "HumanEval/3", completion: "    return False\n", cost_usd: 0.02, iterations: 5, usage: { prompt_tokens: 2000, completion_tokens: 400 } },
    { task_id: "HumanEval/3", completion: canonical("HumanEval/3"), cost_usd: 0.01, iterations: 2, usage: { prompt_tokens: 1000, completion_tokens: 200 } },
  ];
}

function writeSamples(name: string, lines: object[]): string {
  const file = path.join(work, name);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return file;
}

const MEASURE_FLAGS = ["--cost-field", "cost_usd", "--iterations-field", "iterations", "--input-tokens-field", "usage.prompt_tokens", "--output-tokens-field", "usage.completion_tokens"];

/** `koderz evaluate FILE --save-run ...` into the store `db`; the sandbox is closed afterwards even when the command never reached it. */
async function saveRun(file: string, db: string, extra: string[] = [], sandbox?: Sandbox) {
  const args = [file, "--allow-partial", "--save-run", "--db", db, "--results-dir", path.join(work, "summaries"), ...extra];
  const used = sandbox ?? (await CountingSandbox.open());
  try {
    return await runEvaluateCli(args, used);
  } finally {
    await used.close();
  }
}

function runIdIn(stderr: string): string {
  const match = /imported as run (import_[0-9a-f]{8}_\d{8}_\d{6})/.exec(stderr);
  expect(match, stderr).not.toBeNull();
  return match![1]!;
}

function withStore<T>(db: string, use: (store: Store) => T): T {
  const store = openStore({ path: db, mustExist: true });
  try {
    return use(store);
  } finally {
    store.close();
  }
}

describe("koderz evaluate --save-run", () => {
  it("imports a samples file as a run: one experiment per task with the file's cost, iterations and tokens, the sandbox's verdicts and docstring-example progress", async () => {
    const file = writeSamples("outside.jsonl", outsideLog());
    const db = path.join(work, "import.db");
    const run = await saveRun(file, db, ["--label", "other-tool", "--arm", "fast", "--stage", "baseline", "--tags", "model:gpt-4,team-a", ...MEASURE_FLAGS]);
    expect(run.error).toBeUndefined();
    // pass@1 over all four samples: HumanEval/0 1, HumanEval/2 0, HumanEval/3 1/2.
    expect(run.stdout).toBe("pass@1: 0.5000\n");
    expect(run.stderr).toContain("1 samples answer a task an earlier line already answered");
    const runId = runIdIn(run.stderr);

    const results = readFileSync(`${file}_results.jsonl`, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; result: string; passed: boolean });
    const stored = withStore(db, (store) => ({
      run: store.getRun(runId),
      experiments: store.experiments(runId),
      steps: store.experiments(runId).map((e) => store.steps(e.experimentId)),
    }));

    expect(stored.run).toMatchObject({ kind: "import", mode: "fast", label: "other-tool", stage: "baseline", status: "finished" });
    expect(stored.run.tags).toEqual(expect.arrayContaining(["imported", "label:other-tool", "model:gpt-4", "team-a", "kind:import", "mode:fast"]));
    expect(stored.run.tags.filter((tag) => tag.endsWith(":unknown"))).toEqual([]);
    expect(stored.run.config).toMatchObject({ samplesFile: path.resolve(file), samplesSkipped: 1, sanitize: false, problemIds: ["HumanEval/0", "HumanEval/2", "HumanEval/3"] });

    const log = outsideLog() as { completion: string; cost_usd: number; iterations: number; usage: { prompt_tokens: number; completion_tokens: number } }[];
    expect(stored.experiments.map((e) => [e.problemId, e.arm, e.success, e.verdict])).toEqual([
      ["HumanEval/0", "fast", true, results[0]!.result],
      ["HumanEval/2", "fast", false, results[1]!.result],
      ["HumanEval/3", "fast", false, results[2]!.result],
    ]);
    expect(results.slice(0, 3).map((r) => r.passed)).toEqual([true, false, false]);
    stored.experiments.forEach((experiment, i) => {
      expect(experiment).toMatchObject({
        iterations: log[i]!.iterations,
        costUsd: log[i]!.cost_usd,
        inputTokens: log[i]!.usage.prompt_tokens,
        outputTokens: log[i]!.usage.completion_tokens,
        finalCode: log[i]!.completion,
      });
    });

    // One Coder step each, carrying the sample's totals and the docstring examples' pass fraction.
    expect(stored.steps.map((steps) => steps.map((s) => [s.agent, s.visiblePassFraction, s.costUsd, s.inputTokens, s.outputTokens, s.code]))).toEqual(
      log.slice(0, 3).map((line, i) => [["Coder", [1, 1, 0.5][i], line.cost_usd, line.usage.prompt_tokens, line.usage.completion_tokens, line.completion]]),
    );
    expect(stored.steps[2]![0]!.testOutput).toMatch(/^1\/2 docstring examples passed\n- below_zero\(\[1, 2, -4, 5\]\) == True: failed/);

    // The summary JSON in --results-dir is the store's summary of the run.
    const summaryFile = path.join(work, "summaries", `${runId}.json`);
    expect(run.stderr).toContain(`summary in ${summaryFile}`);
    const summary = SingleRunSummarySchema.parse(JSON.parse(readFileSync(summaryFile, "utf8")));
    expect(summary).toMatchObject({
      runId,
      mode: "fast",
      summary: { totalProblems: 3, successes: 1, inputTokens: 3200, outputTokens: 540, avgIterations: 3 },
    });
    expect(summary.summary.totalCostUsd).toBeCloseTo(0.036, 12);
  });

  it("says which line lacks a named field, before any program runs, and writes no run", async () => {
    const lines = outsideLog();
    const db = path.join(work, "bad-field.db");
    const cases = [
      { line: { ...lines[1]!, cost_usd: "free" }, message: /bad-0\.jsonl:2: field "cost_usd" \(--cost-field\) is "free", not a number of US dollars >= 0/ },
      { line: { ...lines[1]!, usage: { prompt_tokens: 300 } }, message: /bad-1\.jsonl:2: field "usage.completion_tokens" \(--output-tokens-field\) is missing/ },
    ];
    for (const [i, { line, message }] of cases.entries()) {
      const file = writeSamples(`bad-${i}.jsonl`, [lines[0]!, line, lines[2]!]);
      const sandbox = await CountingSandbox.open();
      const run = await saveRun(file, db, ["--label", "bad", ...MEASURE_FLAGS], sandbox);
      expect(run.error?.code).toBe("bad_input");
      expect(run.error?.message).toMatch(message);
      expect(run.error?.hint).toContain("--");
      expect(sandbox.programs).toBe(0);
    }
    expect(existsSync(db)).toBe(false); // the lines are checked before the store is even opened
  });

  it("refuses to import a label twice unless --force, which adds a new run", async () => {
    const file = writeSamples("twice.jsonl", outsideLog().slice(0, 2));
    const db = path.join(work, "twice.db");
    const first = runIdIn((await saveRun(file, db, ["--label", "twice"])).stderr);

    const again = await saveRun(file, db, ["--label", "twice"]);
    expect(again.error?.code).toBe("bad_input");
    expect(again.error?.message).toContain(`label "twice" was imported before as run ${first}`);
    expect(again.error?.hint).toContain("--force");

    const forced = await saveRun(file, db, ["--label", "twice", "--force"]);
    expect(forced.error).toBeUndefined();
    const second = runIdIn(forced.stderr);
    expect(withStore(db, (store) => store.listRuns({ kind: "import" }).map((r) => r.runId)).sort()).toEqual([first, second].sort());
  });

  it("without measure fields records 0 cost and tokens and 1 iteration, tagged unknown, and warns of an arm replay cannot map", async () => {
    const file = writeSamples("bare.jsonl", outsideLog().map((line) => ({ task_id: (line as { task_id: string }).task_id, completion: (line as { completion: string }).completion })).slice(0, 2));
    const db = path.join(work, "bare.db");
    const run = await saveRun(file, db, ["--label", "gpt4-bare"]);
    expect(run.error).toBeUndefined();
    expect(run.stderr).toContain('arm "gpt4-bare" is not a mode train-meta replays as it is');
    const runId = runIdIn(run.stderr);
    const { run: stored, experiments } = withStore(db, (store) => ({ run: store.getRun(runId), experiments: store.experiments(runId) }));
    expect(stored.mode).toBe("gpt4-bare");
    expect(stored.tags).toEqual(expect.arrayContaining(["cost:unknown", "tokens:unknown", "iterations:unknown"]));
    expect(experiments.map((e) => [e.arm, e.iterations, e.costUsd, e.inputTokens + e.outputTokens])).toEqual([
      ["gpt4-bare", 1, 0, 0],
      ["gpt4-bare", 1, 0, 0],
    ]);
    // Unknown is unknown: the summary, the export and the listing say null, never $0.
    const { summary, listing } = withStore(db, (store) => ({ summary: buildRunSummary(store, runId), listing: runListing(store.getRun(runId), store.armTotals(runId)) }));
    expect(summary).toMatchObject({ summary: { totalCostUsd: null, avgCostUsd: null, inputTokens: null, outputTokens: null } });
    expect(listing).toMatchObject({ costUsd: null, inputTokens: null, arms: [{ costUsd: null, inputTokens: null }] });
  });

  it("rejects the import flags without --save-run, and --save-run without --label, as usage errors", async () => {
    const file = writeSamples("usage.jsonl", outsideLog().slice(0, 1));
    const db = path.join(work, "usage.db");
    const unused = await CountingSandbox.open();
    const stray = await runEvaluateCli([file, "--allow-partial", "--db", db], unused);
    await unused.close();
    expect(stray.error?.code).toBe("usage");
    expect(stray.error?.message).toContain("--db: only works with --save-run");
    const unlabelled = await saveRun(file, db);
    expect(unlabelled.error?.code).toBe("usage");
    expect(unlabelled.error?.message).toContain("--save-run needs --label");
    expect(existsSync(db)).toBe(false);
  });
});

describe("replay of an imported run", () => {
  it("plays back the logged outcomes, docstring progress, tokens and cost of each task", async () => {
    const file = writeSamples("replay.jsonl", outsideLog());
    const db = path.join(work, "replay.db");
    const runId = runIdIn((await saveRun(file, db, ["--label", "for-replay", "--arm", "zero-shot", ...MEASURE_FLAGS])).stderr);

    const byId = new Map(tasks.map((task) => [task.id, task]));
    const { log, skipped } = withStore(db, (store) => replayLogFromStore(store, [runId], (id) => byId.get(id)));
    expect(skipped).toEqual([]);
    expect(log.map((entry) => entry.task.id)).toEqual(["HumanEval/0", "HumanEval/2", "HumanEval/3"]);

    const env = new ReplayEnvironment({ log, seed: 7 });
    const expected = [
      { taskId: "HumanEval/0", success: true, tokens: 1020, costUsd: 0.012, progress: 1 },
      { taskId: "HumanEval/2", success: false, tokens: 320, costUsd: 0.004, progress: 1 },
      { taskId: "HumanEval/3", success: false, tokens: 2400, costUsd: 0.02, progress: 0.5 },
    ];
    for (const want of expected) {
      const start = await env.reset();
      expect(start.task.id).toBe(want.taskId);
      // zero-shot is replayed as fast, the one-Coder-call mode.
      expect(start.allowed).toEqual({ kind: "mode", modes: ["fast"] });
      await env.step({ kind: "mode", mode: "fast" });
      const result = await env.step({ kind: "agent", agent: "Coder" });
      expect(result.done).toBe(true);
      expect(result.info.progress).toBeCloseTo(want.progress, 9);
      expect(result.info.outcome).toMatchObject({ taskId: want.taskId, mode: "fast", agents: ["Coder"], success: want.success, tokens: want.tokens });
      expect(result.info.outcome!.costUsd).toBeCloseTo(want.costUsd, 9);
    }
  });
});
