import { describe, expect, it } from "vitest";
import { buildRunSummary, escalationFigures, openStore } from "../src/store/index.js";
import { makeExperiment, makeRun, makeSteps, tempStore } from "./fixtures/store-fixtures.js";
import { runCli } from "./fixtures/store-cli.js";

// Escalations per rung are read from the store (the ladder in the run's config, each
// experiment's chosen_mode and escalations tags), so they are right whichever session recorded
// a problem: a run resumed after an interruption counts both sessions' problems.

const LADDER = { kind: "modes", modes: ["fast", "standard", "deep"] };

/** One auto experiment: started in `mode`, climbed `climbed` rungs, solved or not. */
function episode(runId: string, problem: number, mode: string, climbed: number, success: boolean) {
  return makeExperiment({ runId, arm: "auto", problemId: `HumanEval/${problem}`, success, tags: ["benchmark_run", "mode:auto", `chosen_mode:${mode}`, `escalations:${climbed}`] });
}

describe("escalations per rung", () => {
  it("count each rung's starts, arrivals, climbs and solves over every session of a resumed run", () => {
    const { store, dbPath, cleanup } = tempStore();
    try {
      const runId = "bench_e5ca1a7e_20250101_100000";
      store.createRun(makeRun({ runId, mode: "auto", config: { localModel: "ollama:qwen3-coder:30b", policyPath: "policy.json", ladder: LADDER } }));
      // The first session: two problems, then Ctrl-C.
      for (const e of [episode(runId, 0, "fast", 0, true), episode(runId, 1, "fast", 2, true)]) store.recordExperiment(e, makeSteps(e.experimentId, 1));
      store.finishRun(runId, "interrupted");
      store.close();
      // `--resume`: another process opens the store and records the rest.
      const resumed = openStore({ path: dbPath });
      try {
        for (const e of [episode(runId, 2, "standard", 1, false), episode(runId, 3, "fast", 1, true), episode(runId, 4, "deep", 0, false)]) resumed.recordExperiment(e, makeSteps(e.experimentId, 1));
        resumed.finishRun(runId, "finished");
        const summary = buildRunSummary(resumed, runId);
        expect("escalations" in summary && summary.escalations).toEqual({
          ladder: "fast > standard > deep",
          escalations: 4,
          unrecorded: 0,
          rungs: [
            { rung: 1, name: "fast", started: 3, reached: 3, escalated: 2, solved: 1, failed: 0 },
            { rung: 2, name: "standard", started: 1, reached: 3, escalated: 2, solved: 1, failed: 0 },
            { rung: 3, name: "deep", started: 1, reached: 3, escalated: 0, solved: 1, failed: 2 },
          ],
        });
      } finally {
        resumed.close();
      }
    } finally {
      cleanup();
    }
  });

  it("names a ladder of models' rungs by agent and model, always starting on the first; a problem without its tags is counted apart", () => {
    const run = { config: { ladder: { kind: "models", agent: "Coder", models: ["ollama:qwen3-coder:30b", "kimi-k2"] } } };
    const tagged = (problem: number, climbed: number | undefined, success: boolean) =>
      makeExperiment({ runId: "r", arm: "auto", problemId: `HumanEval/${problem}`, success, tags: climbed === undefined ? [] : [`escalations:${climbed}`] });
    expect(escalationFigures(run, [tagged(0, 1, true), tagged(1, 0, false), tagged(2, undefined, true)])).toEqual({
      ladder: "Coder: ollama:qwen3-coder:30b > kimi-k2",
      escalations: 1,
      unrecorded: 1,
      rungs: [
        { rung: 1, name: "Coder=ollama:qwen3-coder:30b", started: 2, reached: 2, escalated: 1, solved: 0, failed: 1 },
        { rung: 2, name: "Coder=kimi-k2", started: 0, reached: 1, escalated: 0, solved: 1, failed: 0 },
      ],
    });
    // A run stored with the ladder's former field name reads the same; a run without a ladder has none.
    expect(escalationFigures({ config: { ladder: { kind: "models", role: "Coder", models: ["ollama:qwen3-coder:30b", "kimi-k2"] } } }, [tagged(0, 1, true)])?.rungs[1]?.name).toBe("Coder=kimi-k2");
    expect(escalationFigures({ config: {} }, [tagged(0, 1, true)])).toBeNull();
  });

  it("are printed by `results show` as a table per rung", async () => {
    const { store, dbPath, cleanup } = tempStore();
    try {
      const runId = "bench_e5ca1a7f_20250101_100000";
      store.createRun(makeRun({ runId, mode: "auto", config: { localModel: "ollama:qwen3-coder:30b", ladder: { kind: "modes", modes: ["fast", "deep"] } } }));
      for (const e of [episode(runId, 0, "fast", 1, true), episode(runId, 1, "fast", 0, false)]) store.recordExperiment(e, makeSteps(e.experimentId, 1));
      store.finishRun(runId, "finished");
      const shown = await runCli(["results", "show", runId, "--db", dbPath]);
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(shown.stdout).toContain("escalations per rung (ladder fast > deep; 1 escalation in all)");
      expect(shown.stdout).toMatch(/^\s*1\s+fast\s+2\s+2\s+1\s+0\s+1$/m);
      expect(shown.stdout).toMatch(/^\s*2\s+deep\s+0\s+1\s+0\s+1\s+0$/m);
    } finally {
      cleanup();
    }
  });
});
