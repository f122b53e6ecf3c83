import { describe, expect, it } from "vitest";
import { MODE_RULES, type Action } from "../policy/actions.js";
import { baselineControllers, fixedModeController } from "../training/controllers.js";
import { compareControllers, formatComparison } from "../training/compare-controllers.js";
import { createSyntheticEnvironments, SyntheticEnvironment, SYNTHETIC_MODEL, syntheticOracle } from "../training/synthetic-environment.js";
import { generateSyntheticTask } from "../training/synthetic-tasks.js";

const mode = (m: "fast" | "standard" | "deep"): Action => ({ kind: "mode", mode: m });
const agent = (a: "Planner" | "Coder" | "Tester" | "Debugger" | "Reviewer" | "Stop"): Action => ({ kind: "agent", agent: a });

/** The first episode index of a seed whose task difficulty is in [low, high). */
function episodeWithDifficulty(seed: number, low: number, high: number): number {
  for (let e = 0; ; e++) {
    const d = generateSyntheticTask(seed, e).difficulty;
    if (d >= low && d < high) return e;
  }
}

describe("SyntheticEnvironment", () => {
  it("labels everything it produces as synthetic", async () => {
    const env = new SyntheticEnvironment({ seed: 1 });
    const first = await env.reset();
    expect(env.source).toBe("synthetic");
    expect(first.task.id).toMatch(/^synthetic\//);
    await env.step(mode("fast"));
    const end = await env.step(agent("Stop"));
    expect(end.info.source).toBe("synthetic");
    expect(end.info.outcome?.source).toBe("synthetic");
    const comparison = await compareControllers(baselineControllers(1), () => createSyntheticEnvironments(10, 5), 1);
    expect(formatComparison(comparison)).toMatch(/^SYNTHETIC environment \(simulator, not model results\)/);
  });

  it("replays the same tasks and luck for the same seed", async () => {
    const play = async () => {
      const env = new SyntheticEnvironment({ seed: 42 });
      const outcomes = [];
      for (let i = 0; i < 20; i++) {
        await env.reset();
        await env.step(mode("standard"));
        for (const a of ["Planner", "Coder", "Tester", "Debugger"] as const) await env.step(agent(a));
        outcomes.push((await env.step(agent("Stop"))).info.outcome);
      }
      return outcomes;
    };
    expect(await play()).toEqual(await play());
  });

  it("follows its documented rules: progress, token costs, ineffective agents, budgets", async () => {
    const episode = episodeWithDifficulty(9, 0, 0.2); // easy: standard's first code passes every visible example
    const env = new SyntheticEnvironment({ seed: 9, firstEpisode: episode });
    await env.reset();
    const chosen = await env.step(mode("standard"));
    expect(chosen.reward).toBe(0);
    expect(chosen.state.allowed).toMatchObject({ kind: "agent", agents: [...MODE_RULES.standard.allowedAgents, "Stop"] });

    const coded = await env.step(agent("Coder"));
    const coderTokens = SYNTHETIC_MODEL.agentTokens.Coder * SYNTHETIC_MODEL.modes.standard.tokenMultiplier;
    expect(coded.info.tokens).toBe(coderTokens);
    expect(coded.info.progress).toBe(1); // 0 → all visible examples pass
    expect(coded.reward).toBeCloseTo(1 - 0.001 * (coderTokens / 1000));
    expect(coded.state.episode.visiblePassFraction).toBe(1);

    // Nothing fails and no Tester ran: the Debugger has nothing to work from, yet it costs.
    const wasted = await env.step(agent("Debugger"));
    expect(wasted.info.progress).toBe(0);
    expect(wasted.reward).toBeCloseTo(-0.001 * ((SYNTHETIC_MODEL.agentTokens.Debugger * SYNTHETIC_MODEL.modes.standard.tokenMultiplier) / 1000));

    const stopped = await env.step(agent("Stop"));
    expect(stopped.done).toBe(true);
    expect(stopped.info.successBonus).toBe(stopped.info.outcome!.success ? 1 : 0);
    expect(stopped.info.outcome!.agents).toEqual(["Coder", "Debugger"]);
  });

  it("ends an episode when the mode's step budget is spent", async () => {
    const env = new SyntheticEnvironment({ seed: 2 });
    await env.reset();
    await env.step(mode("fast"));
    expect((await env.step(agent("Coder"))).done).toBe(false);
    const last = await env.step(agent("Debugger"));
    expect(last.done).toBe(true);
    expect(last.info.outcome?.agents).toHaveLength(MODE_RULES.fast.maxAgentSteps);
  });

  it("has an oracle whose plan earns the oracle's expected return", async () => {
    for (let episode = 0; episode < 30; episode++) {
      const task = generateSyntheticTask(4, episode);
      const oracle = syntheticOracle(task);
      const env = new SyntheticEnvironment({ seed: 4, firstEpisode: episode });
      await env.reset();
      let end = await env.step(mode(oracle.mode));
      let withoutBonus = end.reward;
      for (const a of oracle.agents) withoutBonus += (end = await env.step(agent(a))).reward;
      if (!end.done) withoutBonus += (end = await env.step(agent("Stop"))).reward; // a plan may fill the budget
      withoutBonus -= end.info.successBonus;
      expect(withoutBonus + oracle.success).toBeCloseTo(oracle.return, 9);
      expect(end.info.outcome!.oracle).toEqual(oracle);
    }
  });

  it("makes the oracle better than every fixed mode, and each mode best on some tasks", async () => {
    const comparison = await compareControllers(
      ["fast", "standard", "deep"].map((m) => fixedModeController(m as "fast")),
      () => createSyntheticEnvironments(100, 8),
      5,
    );
    const oracle = comparison.rows.find((row) => row.name === "oracle")!;
    for (const row of comparison.rows.filter((r) => r.name.startsWith("always-"))) expect(row.meanReturn).toBeLessThan(oracle.meanReturn);
    for (const m of ["fast", "standard", "deep"] as const) expect(oracle.modeMix[m]).toBeGreaterThan(0.05);
  });
});
