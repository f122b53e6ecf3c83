import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Agent } from "../agents/agent.js";
import type { Mode } from "../policy/actions.js";
import type { EpisodeState } from "../policy/features.js";
import type { RungEnd } from "../src/orchestrator/engine/ladder-climb.js";
import { SolveTrajectory } from "../src/orchestrator/solve/solve-trajectory.js";
import { openStore } from "../src/store/index.js";
import { ReplayEnvironment } from "../training/replay-environment.js";
import { ladderEpisodeState } from "../training/ladder-state.js";
import { replayLogFromStore } from "../training/replay-log.js";

/**
 * solve --mode auto --ladder asks its policy at each rung's end in the state training builds from
 * the same trajectory: here one trajectory (a fixture: scripted model turns, no model ran) is
 * recorded by solve's SolveTrajectory, then read two ways: as solve reads it at a rung's end, and
 * as training reads it, stored and replayed through the ReplayEnvironment up to the same decision.
 */
const response = (tokens: number, costUsd: number) => ({ text: "ok", toolCalls: [], usage: { input: tokens, output: tokens / 2 }, latencyMs: 5, model: "m", costUsd, cached: false });

/** What one rung records: model turns, the tool calls they made, and koderz's test run at the end. */
function playRung(trajectory: SolveTrajectory, turns: { agent: Agent; tokens: number; costUsd: number; edits?: number }[], testsPass: boolean): void {
  for (const turn of turns) {
    trajectory.addModelTurn(turn.agent, "m", "prompt", response(turn.tokens, turn.costUsd));
    for (let i = 0; i < (turn.edits ?? 0); i++) trajectory.addToolCall(turn.agent, { id: `e${i}`, name: "edit", arguments: {} }, { output: "edited", isError: false }, 3);
  }
  trajectory.addCheck("run_tests", "pytest", testsPass ? "1 passed" : "1 failed", testsPass, 40);
}

describe("solve's rung-end state and training's", () => {
  it("are the same state for the same trajectory", async () => {
    const trajectory = new SolveTrajectory();
    const rungs: { mode: Mode; from: number; to: number }[] = [];
    const rung = (mode: Mode, turns: Parameters<typeof playRung>[1], pass: boolean) => {
      const from = trajectory.steps.length;
      playRung(trajectory, turns, pass);
      rungs.push({ mode, from, to: trajectory.steps.length });
    };
    rung("fast", [{ agent: "Coder", tokens: 1200, costUsd: 0.001, edits: 2 }], false);
    trajectory.addEscalation("rung 2 of 3: standard", "the tests failed");
    rung("standard", [{ agent: "Planner", tokens: 800, costUsd: 0.004 }, { agent: "Coder", tokens: 2000, costUsd: 0.01, edits: 1 }, { agent: "Debugger", tokens: 900, costUsd: 0.005, edits: 1 }], false);

    // Solve: the RungEnd the engine's ladder climb hands the policy at the end of rung 2 (of 3), and the state asked in.
    const end = (upTo: number): RungEnd => ({
      mode: rungs[upTo]!.mode,
      rung: upTo,
      rungs: 3,
      testsPassed: false,
      agents: [],
      costUsd: 0,
      tokens: 0,
      rungTokens: 0,
      trajectory: { rungs: rungs.slice(0, upTo + 1).map((r) => ({ mode: r.mode, steps: trajectory.steps.slice(r.from, r.to) })), startRung: 0, rungCount: 3 },
    });
    // solve's atRungEnd asks in ladderEpisodeState(end.trajectory) (engine/ask-policy.ts askAtRungEnd).
    const solveStates = [ladderEpisodeState(end(0).trajectory), ladderEpisodeState(end(1).trajectory)];

    // Training: the same steps stored as one run per rung's mode (a deep run so a third rung exists), replayed up to the same decisions.
    const dir = await mkdtemp(path.join(tmpdir(), "koderz-state-equality-"));
    const store = openStore({ path: path.join(dir, "koderz.db") });
    const runId = "bench_5eed5eed_20250101_000000";
    const task = { id: "Repo/1", prompt: "Fix the word count", entryPoint: "", visibleExamples: [] };
    let replayLog;
    try {
      store.createRun({ runId, kind: "benchmark", mode: "comparative", startTime: "2025-01-01T00:00:00Z", config: {}, tags: [], status: "finished" });
      const stored = [...rungs.map((r) => ({ mode: r.mode, steps: trajectory.steps.slice(r.from, r.to) })), { mode: "deep" as const, steps: [{ agent: "Coder", action: "model", inputTokens: 9000, outputTokens: 1000, costUsd: 0.5, latencyMs: 1 }] }];
      for (const [i, { mode, steps }] of stored.entries()) {
        const experimentId = `exp_${i}`;
        store.recordExperiment(
          { experimentId, runId, problemId: task.id, arm: mode, success: false, iterations: 1, inputTokens: 0, outputTokens: 0, costUsd: 0, wallSeconds: 1, tags: [] },
          steps.map((step, index) => ({ ...step, experimentId, index })),
        );
      }
      replayLog = replayLogFromStore(store, [runId], () => task).log;
    } finally {
      store.close();
    }
    const env = new ReplayEnvironment({ log: replayLog, seed: 1 });
    let observation = await env.reset();
    expect(observation.allowed).toEqual({ kind: "mode", modes: ["fast", "standard", "deep"] });
    const trainingStates: EpisodeState[] = [];
    observation = (await env.step({ kind: "mode", mode: "fast" })).state;
    for (let decision = 0; decision < 2; decision++) {
      while (observation.allowed.kind === "agent" && observation.allowed.pipelineAgent) observation = (await env.step({ kind: "agent", agent: observation.allowed.pipelineAgent })).state;
      trainingStates.push(observation.episode);
      if (decision === 0) observation = (await env.step({ kind: "agent", agent: "Escalate" })).state;
    }

    // The price list is the replay's own (solve has none yet); everything the episode did must agree.
    const withoutPrices = (state: EpisodeState) => ({ ...state, ladderCosts: null });
    expect(solveStates.map(withoutPrices)).toEqual(trainingStates.map(withoutPrices));
    expect(solveStates[1]).toMatchObject({ mode: "standard", rung: 1, rungs: 3, steps: 4, visibleTestsRun: true, visiblePassFraction: 0, lastAgent: "Debugger" });
    expect(solveStates[1]!.costUsd).toBeCloseTo(0.02, 9);
  });
});
