import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SuccessRate } from "../src/cli/compare-action.js";
import { compareRuns, gateFailures } from "../src/report/compare.js";
import { mcnemarExactP, pairedBootstrapInterval } from "../src/report/statistics.js";
import type { Store } from "../src/store/index.js";
import { makeRun, recordArm, tempStore } from "./fixtures/store-fixtures.js";
import { runCli } from "./fixtures/store-cli.js";

let store: Store;
let dbPath: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dbPath, cleanup } = tempStore());
});
afterEach(() => cleanup());

/** `count` outcomes, solved exactly at the given problem indices. */
function solvedAt(count: number, solved: (i: number) => boolean): boolean[] {
  return Array.from({ length: count }, (_, i) => solved(i));
}

/** Runs are labelled by their id without "r_", so output names them "base (r_base)". */
function addRun(runId: string, outcomes: boolean[], extra: { stage?: string; startTime?: string; arm?: string } = {}): void {
  store.createRun(makeRun({ runId, label: runId.slice(2), startTime: extra.startTime ?? "2025-01-01T10:00:00.000Z", ...(extra.stage ? { stage: extra.stage } : {}) }));
  recordArm(store, runId, extra.arm ?? "iterative", outcomes);
}

// Baseline solves problems 0–9 of 20. The candidate keeps 0–8, loses 9 and wins 10–18:
// 9 wins, 1 loss, 10 ties → McNemar b=1, c=9 → p = 0.021484375; difference +8/20 = +0.4.
const BASELINE = solvedAt(20, (i) => i <= 9);
const BETTER = solvedAt(20, (i) => i <= 8 || (i >= 10 && i <= 18));

describe("comparing runs", () => {
  it("counts wins, losses and ties against the first run with McNemar and the bootstrap interval", () => {
    addRun("r_base", BASELINE);
    addRun("r_new", BETTER);
    const comparison = compareRuns(store, ["r_base", "r_new"]);
    expect(comparison.ordering).toBe("given");
    expect(comparison.note).toBeNull();
    expect(comparison.sharedProblems).toHaveLength(20);
    expect(comparison.runs.map((r) => [r.label, r.successes, r.successRate])).toEqual([
      ["base (r_base)", 10, 0.5],
      ["new (r_new)", 18, 0.9],
    ]);
    // Each experiment of the fixture costs $0.01 and uses 100 + 50 tokens.
    expect(comparison.runs[1]).toMatchObject({ problems: 20, inputTokens: 2000, outputTokens: 1000, costUsd: expect.closeTo(0.2, 12) });
    expect(comparison.runs[1]!.costPerSolved).toBeCloseTo(0.2 / 18, 12);
    const [pair] = comparison.pairs;
    expect(pair).toMatchObject({ baseline: "base (r_base)", candidate: "new (r_new)", wins: 9, losses: 1, ties: 10, mcnemarP: 0.021484375 });
    expect(pair!.successRateDifference).toBeCloseTo(0.4, 12);
    const expected = pairedBootstrapInterval(BASELINE.map((baseline, i) => ({ baseline, candidate: BETTER[i]! })));
    expect(pair!.interval).toEqual({ lower: expected.lower, upper: expected.upper, confidence: 0.95, resamples: 10_000 });
    expect(pair!.interval.lower).toBeGreaterThan(0);
  });

  it("orders runs with stage labels: baseline first, then by start time", () => {
    addRun("r_finetuned", BETTER, { stage: "finetuned", startTime: "2025-01-03T00:00:00Z" });
    addRun("r_unlabelled", BETTER, { startTime: "2025-01-05T00:00:00Z" });
    addRun("r_surgery", BETTER, { stage: "after_surgery", startTime: "2025-01-02T00:00:00Z" });
    addRun("r_base", BASELINE, { stage: "baseline", startTime: "2025-01-04T00:00:00Z" });
    const comparison = compareRuns(store, ["r_finetuned", "r_unlabelled", "r_surgery", "r_base"]);
    expect(comparison.ordering).toBe("stage");
    expect(comparison.runs.map((r) => r.label)).toEqual(["base (r_base)", "surgery (r_surgery)", "finetuned (r_finetuned)", "unlabelled (r_unlabelled)"]);
    expect(comparison.pairs.every((p) => p.baseline === "base (r_base)")).toBe(true);
  });

  it("compares runs over different problems on their intersection, and says so", () => {
    addRun("r_base", BASELINE);
    addRun("r_more", [...BETTER, true, true, true, true, true]);
    const comparison = compareRuns(store, ["r_base", "r_more"]);
    expect(comparison.sharedProblems).toHaveLength(20);
    expect(comparison.runs[1]).toMatchObject({ attemptedProblems: 25, problems: 20, successes: 18 });
    expect(comparison.note).toBe("problems not in every run are left out: 5 of more (r_more)");
  });

  it("refuses runs that share no problems", () => {
    addRun("r_a", [true]);
    store.createRun(makeRun({ runId: "r_b" }));
    recordArm(store, "r_b", "iterative", [true], 100);
    expect(() => compareRuns(store, ["r_a", "r_b"])).toThrow(/share no problems/);
  });

  it("picks an arm by RUN:ARM or --arm, and asks when a run has several", () => {
    store.createRun(makeRun({ runId: "r_comp", label: "comp", mode: "comparative" }));
    recordArm(store, "r_comp", "zero-shot", BASELINE);
    recordArm(store, "r_comp", "iterative", BETTER);
    const arms = compareRuns(store, ["r_comp:zero-shot", "r_comp:iterative"]);
    expect(arms.runs.map((r) => r.label)).toEqual(["comp (r_comp):zero-shot", "comp (r_comp):iterative"]);
    expect(arms.pairs[0]).toMatchObject({ wins: 9, losses: 1 });
    addRun("r_single", BASELINE);
    expect(compareRuns(store, ["r_single", "r_comp"], { arm: "iterative" }).runs.map((r) => r.arm)).toEqual(["iterative", "iterative"]);
    expect(() => compareRuns(store, ["r_single", "r_comp"])).toThrow(/several arms \(iterative, zero-shot\)/);
    expect(() => compareRuns(store, ["r_comp:deep"])).toThrow(/no arm deep/);
  });
});

describe("CI gates", () => {
  it("--fail-below fails when any compared run is below the rate", () => {
    addRun("r_base", BASELINE);
    addRun("r_new", BETTER);
    const comparison = compareRuns(store, ["r_base", "r_new"]);
    expect(gateFailures(comparison, { failBelow: 0.6 })).toEqual(["base (r_base): success rate 50.0% is below 60.0%"]);
    expect(gateFailures(comparison, { failBelow: 0.5 })).toEqual([]);
  });

  it("--fail-on-regression needs a lower rate and McNemar p < 0.05, so one noisy flip does not fail CI", () => {
    addRun("r_base", BETTER); // 18 of 20
    addRun("r_significant", BASELINE); // 1 win, 9 losses: p = 0.0215
    // Loses problems 7 and 8, wins 19: 1 win, 2 losses, 17 of 20 — lower, but p = 1.
    addRun("r_noise", solvedAt(20, (i) => i <= 6 || (i >= 10 && i <= 18) || i === 19));
    const comparison = compareRuns(store, ["r_base", "r_significant", "r_noise"]);
    expect(comparison.pairs.map((p) => [p.candidate, p.wins, p.losses])).toEqual([
      ["significant (r_significant)", 1, 9],
      ["noise (r_noise)", 1, 2],
    ]);
    expect(comparison.pairs[1]!.mcnemarP).toBe(mcnemarExactP(2, 1));
    const failures = gateFailures(comparison, { failOnRegression: true });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^significant \(r_significant\): regression against base \(r_base\): -40\.0 points \(1 wins, 9 losses; McNemar p = 0\.0215 < 0\.05\)$/);
  });

  it("reads rates as fractions up to 1 and as percents above 1 or with %", () => {
    expect(SuccessRate.parse("0.8")).toBe(0.8);
    expect(SuccessRate.parse("80")).toBe(0.8);
    expect(SuccessRate.parse("80%")).toBe(0.8);
    expect(SuccessRate.parse("1")).toBe(1);
    expect(SuccessRate.parse("0.5%")).toBe(0.005);
    expect(SuccessRate.parse("100")).toBe(1);
    expect(SuccessRate.safeParse("101").success).toBe(false);
    expect(SuccessRate.safeParse("-5").success).toBe(false);
    expect(SuccessRate.safeParse("high").success).toBe(false);
  });
});

describe("koderz compare", () => {
  beforeEach(() => {
    addRun("r_base", BASELINE, { stage: "baseline", startTime: "2025-01-02T00:00:00Z" });
    addRun("r_new", BETTER, { stage: "finetuned", startTime: "2025-01-01T00:00:00Z" });
  });

  it("prints runs side by side and each run against the baseline", async () => {
    const { stdout, stderr, exitCode } = await runCli(["compare", "r_new", "r_base", "--db", dbPath]);
    expect(exitCode).toBe(0);
    expect(stderr).toBe("");
    const lines = stdout.split("\n");
    expect(lines[0]).toBe("compared on 20 problems; baseline base (r_base) (ordered by stage: baseline first, then by start time)");
    expect(stdout).toMatch(/^base \(r_base\)\s+iterative\s+ollama:qwen3-coder:30b\s+baseline\s+10\/20\s+50\.0%\s+2,000 \/ 1,000\s+\$0\.2000\s+\$0\.0200$/m);
    expect(stdout).toMatch(/^new \(r_new\)\s+iterative\s+ollama:qwen3-coder:30b\s+finetuned\s+18\/20\s+90\.0%\s+2,000 \/ 1,000\s+\$0\.2000\s+\$0\.0111$/m);
    expect(stdout).toMatch(/^new \(r_new\)\s+9\s+1\s+10\s+\+40\.0 pts\s+\[\+\d+\.\d pts, \+\d+\.\d pts\]\s+0\.0215$/m);
  });

  it("--json gives the comparison and the gates", async () => {
    const { stdout, exitCode } = await runCli(["compare", "r_base", "r_new", "--json", "--fail-below", "60%", "--db", dbPath]);
    expect(exitCode).toBe(1);
    const parsed = JSON.parse(stdout) as { runs: { label: string }[]; pairs: { mcnemarP: number }[]; gates: { failBelow: number; failures: string[] } };
    expect(parsed.runs.map((r) => r.label)).toEqual(["base (r_base)", "new (r_new)"]);
    expect(parsed.pairs[0]!.mcnemarP).toBe(0.021484375);
    expect(parsed.gates).toMatchObject({ failBelow: 0.6, failures: ["base (r_base): success rate 50.0% is below 60.0%"] });
  });

  it("exits 1 on a failed gate, 0 when gates pass, 2 on a bad rate", async () => {
    const below = await runCli(["compare", "r_base", "r_new", "--fail-below", "0.6", "--db", dbPath]);
    expect(below.exitCode).toBe(1);
    expect(below.stderr).toContain("gate failed: base (r_base): success rate 50.0% is below 60.0%");
    expect((await runCli(["compare", "r_base", "r_new", "--fail-below", "50", "--fail-on-regression", "--db", dbPath])).exitCode).toBe(0);
    const bad = await runCli(["compare", "r_base", "r_new", "--fail-below", "150", "--db", dbPath]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--fail-below");
  });

  it("exits 1 with --fail-on-regression when the later run is significantly worse", async () => {
    addRun("r_worse", solvedAt(20, (i) => i === 0), { stage: "after_surgery", startTime: "2025-01-03T00:00:00Z" });
    const { stderr, exitCode } = await runCli(["compare", "r_base", "r_worse", "--fail-on-regression", "--db", dbPath]);
    // 0 wins, 9 losses: p = 2/512
    expect(exitCode).toBe(1);
    expect(stderr).toContain("gate failed: worse (r_worse): regression against base (r_base)");
  });

  it("takes labels where run ids go; a label two runs carry is an error listing both", async () => {
    const byLabel = await runCli(["compare", "base", "new", "--json", "--db", dbPath]);
    expect(JSON.parse(byLabel.stdout)).toMatchObject({ schemaVersion: 1, runs: [{ runId: "r_base", name: "base" }, { runId: "r_new", name: "new" }] });
    // A second run labelled "new": the label no longer says which.
    store.createRun(makeRun({ runId: "r_new_again", label: "new", startTime: "2025-01-05T00:00:00Z" }));
    const ambiguous = await runCli(["compare", "base", "new", "--db", dbPath]);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain("2 runs carry the label new: r_new (");
    expect(ambiguous.stderr).toContain("r_new_again (");
  });

  it("one run with several arms compares its arms, and --list names the problems won, lost or differing", async () => {
    store.createRun(makeRun({ runId: "r_comp", label: "comp", mode: "comparative" }));
    recordArm(store, "r_comp", "iterative", BASELINE);
    recordArm(store, "r_comp", "zero-shot", BETTER);
    const table = await runCli(["compare", "comp", "--db", dbPath]);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/^comp \(r_comp\):zero-shot\s+9\s+1\s+10\s+\+40\.0 pts/m);
    const lost = await runCli(["compare", "comp", "--list", "lost", "--db", dbPath]);
    expect(lost.stdout).toBe("lost by comp (r_comp):zero-shot against comp (r_comp):iterative: 1\n  HumanEval/9\n");
    const won = await runCli(["compare", "r_comp", "--list", "won", "--db", dbPath]);
    expect(won.stdout.trimEnd().split("\n").slice(1)).toEqual(Array.from({ length: 9 }, (_, i) => `  HumanEval/${i + 10}`));
    const json = JSON.parse((await runCli(["compare", "comp", "--json", "--db", dbPath])).stdout) as { pairs: { problems: { won: string[]; lost: string[]; differ: string[] } }[] };
    expect(json.pairs[0]!.problems).toMatchObject({ lost: ["HumanEval/9"], differ: ["HumanEval/9", ...Array.from({ length: 9 }, (_, i) => `HumanEval/${i + 10}`)] });
  });

  it("an unknown run exits 1 and names it", async () => {
    const { stderr, exitCode } = await runCli(["compare", "r_base", "r_missing", "--db", dbPath]);
    expect(exitCode).toBe(1);
    expect(stderr).toContain("no run with id r_missing");
  });
});
