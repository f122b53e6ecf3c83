import { mkdtemp, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { THRESHOLD_GRID } from "../training/router-selection.js";
import { parsePolicyFile } from "../policy/policy-file.js";
import { parseMetricLines } from "../training/metrics.js";
import { openStore } from "../src/store/index.js";
import { execa } from "execa";
import { expectContractDocument } from "./helpers/json-contract.js";

const repoRoot = path.resolve(import.meta.dirname, "..");

/** Runs the built CLI (the test setup builds dist/) as a user would, with the test datasets. */
async function koderz(args: string[], options: { cwd: string }): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const result = await execa("node", [path.join(repoRoot, "dist/src/cli/main.js"), ...args], {
    cwd: options.cwd,
    reject: false,
    env: { KODERZ_DATA_DIR: process.env.KODERZ_DATA_DIR?.trim() || path.resolve(repoRoot, "../shared/datasets") },
  });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
}

describe("koderz train-meta", () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), "koderz-train-meta-"));
  });

  it("rejects bad flags with usage errors", async () => {
    const noRuns = await koderz(["train-meta", "--env", "replay"], { cwd });
    expect(noRuns.exitCode).toBe(2);
    expect(noRuns.stderr).toMatch(/--env replay needs --runs/);
    const zero = await koderz(["train-meta", "--episodes", "0"], { cwd });
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toMatch(/--episodes: must be at least 1/);
    const backend = await koderz(["train-meta", "--backend", "gpu"], { cwd });
    expect(backend.exitCode).toBe(2);
    expect(backend.stderr).toMatch(/--backend: must be one of auto, wasm, cpu, node, node-gpu/);
    const floorOutside = await koderz(["train-meta", "--success-floor", "0.9"], { cwd });
    expect(floorOutside.exitCode).toBe(2);
    expect(floorOutside.stderr).toMatch(/--success-floor is for --env replay/);
    const evalOutside = await koderz(["train-meta", "--eval-runs", "x"], { cwd });
    expect(evalOutside.exitCode).toBe(2);
    expect(evalOutside.stderr).toMatch(/--eval-runs is for --env replay/);
    const floorTooHigh = await koderz(["train-meta", "--env", "replay", "--runs", "x", "--success-floor", "1.5"], { cwd });
    expect(floorTooHigh.exitCode).toBe(2);
    expect(floorTooHigh.stderr).toMatch(/--success-floor: must be a share of the dearest arm's success/);
  });

  it("trains on the synthetic environment and writes the policy, checkpoints, metrics and a labelled table", async () => {
    const run = await koderz(
      ["train-meta", "--episodes", "400", "--eval-episodes", "200", "--checkpoint-every", "200", "--out", "p.json", "--backend", "cpu", "--seed", "3"],
      { cwd },
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/tensor backend: cpu/);
    expect(run.stderr).toMatch(/SYNTHETIC environment/);
    expect(run.stdout).toMatch(/^SYNTHETIC environment \(simulator, not model results\): 200 held-out episodes/);
    for (const row of ["learned", "always-fast", "always-standard", "always-deep", "random", "oracle"]) expect(run.stdout).toMatch(new RegExp(`^${row} `, "m"));

    const policy = parsePolicyFile(await readFile(path.join(cwd, "p.json"), "utf8"), "p.json");
    expect(policy.training).toMatchObject({ env: "synthetic", synthetic: true, episodes: 400, seed: 3, backend: expect.stringMatching(/^cpu/) });
    expect(policy.training.summary?.fractionOfOracle).toBeGreaterThan(0);
    expect(existsSync(path.join(cwd, "p.ep200.json"))).toBe(true);
    expect(existsSync(path.join(cwd, "p.ep400.json"))).toBe(true);

    const lines = parseMetricLines(await readFile(path.join(cwd, "p.metrics.jsonl"), "utf8"));
    expect(lines.filter((l) => l.type === "episode")).toHaveLength(400);
    expect(lines.filter((l) => l.type === "update")).toHaveLength(2);
    expect(lines.at(-1)).toMatchObject({ type: "comparison", env: "synthetic", episodes: 200 });
    expect(lines.every((l) => l.env === "synthetic")).toBe(true);
  });

  it("trains from stored runs with --env replay and holds out tasks", async () => {
    const db = path.join(cwd, "koderz.db");
    const runId = "bench_0badcafe_20250101_000000";
    const otherLadder = "bench_0badcafe_20250102_000000";
    const store = openStore({ path: db });
    try {
      store.createRun({ runId, kind: "benchmark", mode: "comparative", startTime: "2025-01-01T00:00:00Z", config: {}, tags: [], status: "finished" });
      // A scripted fixture (no model ran): fast solves the even problems, deep solves all at a higher price.
      store.createRun({ runId: otherLadder, kind: "benchmark", mode: "comparative", startTime: "2025-01-01T00:00:00Z", config: {}, tags: [], status: "finished" });
      for (let problem = 0; problem < 10; problem++) {
        // The other ladder: a standard rung in place of the fast one, as dear as ten fast runs.
        for (const [run, arm] of [[runId, "fast"], [runId, "deep"], [otherLadder, "standard"], [otherLadder, "deep"]] as const) {
          const experimentId = `exp_${run}_${arm}_${problem}`;
          const success = arm === "deep" || problem % 2 === 0;
          store.recordExperiment(
            { experimentId, runId: run, problemId: `HumanEval/${problem}`, arm, success, iterations: 1, inputTokens: 0, outputTokens: 0, costUsd: 0, wallSeconds: 1, finalCode: "x", tags: [] },
            [{ experimentId, index: 0, agent: "Coder", action: "model", code: "x", visiblePassFraction: success ? 1 : 0, inputTokens: arm === "deep" ? 40_000 : 1000, outputTokens: 500, costUsd: { fast: 0.001, standard: 0.01, deep: 0.1 }[arm], latencyMs: 5 }],
          );
        }
      }
    } finally {
      store.close();
    }
    const run = await koderz(["train-meta", "--env", "replay", "--runs", runId, "--db", db, "--episodes", "200", "--out", "replay.json", "--backend", "cpu", "--success-floor", "0.9"], { cwd });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/replay of logged runs: 8 training tasks, 2 held-out tasks/);
    // Five seeds by default, each its own split by task: 5 x 2 held-out episodes per controller.
    expect(run.stdout).toMatch(/^replay environment: 10 held-out episodes per controller, pooled over seeds 1, 2, 3, 4, 5/);
    expect(run.stdout).toMatch(/costs in US dollars as logged/);
    // Each seed chose its controller on its training tasks, among the learned policy and the rules, and says which.
    expect(run.stdout).toMatch(/^seed 1: 4-fold cross-validation on 8 training tasks chose the (learned policy|rule cascade)/m);
    for (const row of ["chosen", "learned", "always-fast", "always-deep", "cascade\\(0,visible\\)", "cascade\\(0,any,<=25%\\)", "random", "oracle"]) expect(run.stdout).toMatch(new RegExp(`^${row} `, "m"));
    // No standard run was logged, so there is no always-standard row (never another mode's figures under its name).
    expect(run.stdout).not.toMatch(/^always-standard /m);
    expect(run.stdout).not.toMatch(/SYNTHETIC/);
    const policy = parsePolicyFile(await readFile(path.join(cwd, "replay.json"), "utf8"), "replay.json");
    expect(policy.training).toMatchObject({ env: "replay", synthetic: false, runs: [runId], successFloor: 0.9 });
    // The file holds the first seed's choice: the learned ensemble at its threshold, or the rule.
    if (policy.kind === "network") expect(THRESHOLD_GRID).toContain(policy.training.escalationThreshold);
    else expect(policy.rule.kind).toBe("cascade");

    // Trained on one ladder, evaluated on another's logs, on tasks never trained on.
    const transfer = await koderz(["train-meta", "--env", "replay", "--runs", runId, "--eval-runs", otherLadder, "--db", db, "--episodes", "200", "--seeds", "2", "--out", "transfer.json", "--backend", "cpu", "--success-floor", "0.9", "--json"], { cwd });
    expect(transfer.exitCode, transfer.stderr).toBe(0);
    expect(transfer.stderr).toMatch(/ladder, cheapest first by logged cost: fast -> deep; evaluated on standard -> deep/);
    // --json: the same table as the JSON contract has it (docs/schemas/train-meta.schema.json).
    const table = JSON.parse(transfer.stdout) as { source: string; episodes: number; ladder: string[]; evalLadder: string[]; rows: { name: string }[] };
    expectContractDocument("train-meta", table);
    expect(table).toMatchObject({ source: "replay", episodes: 4, ladder: ["fast", "deep"], evalLadder: ["standard", "deep"] });
    expect(table.rows.map((row) => row.name)).toContain("always-standard");
    expect(table.rows.map((row) => row.name)).not.toContain("always-fast");

    const unknown = await koderz(["train-meta", "--env", "replay", "--runs", "bench_00000000_20250101_000000", "--db", db], { cwd });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no run with id bench_00000000_20250101_000000/);
  });
});
