import { describe, expect, it } from "vitest";
import { renderSuiteFigures } from "../src/cli/suite-tables.js";
import type { ExperimentRecord, StoredCriterion } from "../src/store/index.js";

// What `benchmark` and `results show` print under a suite run: the role line reads the coder
// rubric plan's thresholds, so it appears for rubric-scored runs and never for a mixed run whose
// only scores are its agentic cases' tool traces.

function experiment(problemId: string, tier: string, category: string, score: number | undefined, by?: StoredCriterion["by"]): ExperimentRecord {
  return {
    experimentId: problemId,
    runId: "run",
    problemId,
    arm: "standard",
    success: (score ?? 5) >= 3,
    iterations: 1,
    inputTokens: 10,
    outputTokens: 10,
    costUsd: 0.01,
    wallSeconds: 1,
    category,
    tier,
    score,
    scoreCriteria: by ? [{ name: "c", weight: 1, by, value: 1, detail: "" }] : undefined,
    tags: [],
  };
}

describe("suite figures", () => {
  it("recommends a role when every case was rubric-scored", () => {
    const text = renderSuiteFigures(
      [experiment("a", "T1", "functions", 4.6, "check"), experiment("b", "T2", "algorithms", 4.1, "judge"), experiment("c", "T3", "concurrency", 3.6, "program")],
      "ollama:qwen3-coder:30b",
    );
    expect(text).toContain("by tier");
    expect(text).toContain("role for ollama:qwen3-coder:30b: coder_escalation");
  });

  it("prints no role for a mixed run whose scores come from tool traces", () => {
    const text = renderSuiteFigures(
      [experiment("a", "T1", "reasoning", undefined), experiment("b", "T2", "agentic", 5, "end-state"), experiment("c", "T3", "agentic", 4.8, "trace")],
      "kimi-k2",
    );
    expect(text).toContain("by category");
    expect(text).toContain("by tier");
    expect(text).not.toContain("role");
  });
});
