import { describe, expect, it } from "vitest";
import {
  buildFeatureSpec,
  episodeStateFeatures,
  featureSpecDifference,
  featureVector,
  initialEpisodeState,
  taskFeatures,
} from "../policy/features.js";
import type { PublicTask } from "../tasks/task.js";

const task: PublicTask = {
  id: "HumanEval/0",
  entryPoint: "has_close_elements",
  prompt: `from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    True
    """
`,
  visibleExamples: [
    { call: "has_close_elements([1.0, 2.0, 3.0], 0.5)", expected: "False" },
    { call: "has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)", expected: "True" },
  ],
};

describe("task features", () => {
  const spec = buildFeatureSpec();
  const values = taskFeatures(task, spec);
  const named = (name: string): number => values[spec.taskFeatures.indexOf(name)]!;

  it("reads the signature, the examples and the return type from the prompt", () => {
    expect(named("parameter_count")).toBeCloseTo(2 / 6);
    expect(named("docstring_examples")).toBeCloseTo(2 / 10);
    expect(named("has_type_hints")).toBe(1);
    expect(named("return_type_bool")).toBe(1);
    expect(named("return_type_none")).toBe(0);
    expect(named("imports")).toBeCloseTo(1 / 5);
    expect(named("helper_functions")).toBe(0);
  });

  it("hashes the specification's words (not the examples) into unit-length buckets", () => {
    const buckets = (features: Float32Array): number[] =>
      spec.taskFeatures.flatMap((name, i) => (name.startsWith("spec_word_bucket_") ? [features[i]!] : []));
    expect(buckets(values)).toHaveLength(spec.hashBuckets);
    expect(Math.hypot(...buckets(values))).toBeCloseTo(1, 5);
    const otherExamples = taskFeatures({ ...task, prompt: task.prompt.replace("False", "True").replace("0.5)", "0.25)") }, spec);
    expect(buckets(otherExamples)).toEqual(buckets(values));
    const otherWords = taskFeatures({ ...task, prompt: task.prompt.replace("closer to each other", "recursively nested") }, spec);
    expect(buckets(otherWords)).not.toEqual(buckets(values));
  });

  it("keeps every feature in [0, 1] and the vector at the spec's size", () => {
    const vector = featureVector(values, initialEpisodeState(), spec);
    expect(vector).toHaveLength(spec.size);
    for (const value of vector) expect(value >= 0 && value <= 1).toBe(true);
  });
});

describe("episode-state features", () => {
  const spec = buildFeatureSpec();
  it("encode the mode, the last agent one-hot, the pass fraction and spend", () => {
    const state = {
      ...initialEpisodeState(),
      mode: "standard" as const,
      steps: 2,
      lastAgent: "Coder" as const,
      agentCounts: { Planner: 1, Coder: 1, Tester: 0, Debugger: 0, Reviewer: 0 },
      visiblePassFraction: 0.5,
      visibleTestsRun: true,
      tokens: 20_000,
      costUsd: 0.05,
    };
    const values = episodeStateFeatures(state);
    const named = (name: string): number => values[spec.stateFeatures.indexOf(name)]!;
    expect(named("decision_is_mode")).toBe(0);
    expect(named("mode_standard")).toBe(1);
    expect(named("last_agent_Coder")).toBe(1);
    expect(named("last_agent_Planner")).toBe(0);
    expect(named("visible_pass_fraction")).toBe(0.5);
    expect(named("tokens_spent")).toBeCloseTo(0.5);
    expect(named("dollars_spent")).toBeCloseTo(0.5);
    expect(named("steps_left_fraction")).toBeCloseTo(3 / 5);
  });

  it("encode what else a user could see: the rung, the Tester's tests, the Reviewer's verdict, code that does not run", () => {
    const values = episodeStateFeatures({ ...initialEpisodeState(), mode: "fast", rung: 1, rungs: 3, testerTests: 5, review: "rejected", codeRaises: true });
    const named = (name: string): number => values[spec.stateFeatures.indexOf(name)]!;
    expect(named("rung_fraction")).toBeCloseTo(0.5);
    expect(named("can_escalate")).toBe(1);
    expect(named("tester_tests")).toBeCloseTo(0.5);
    expect(named("review_rejected")).toBe(1);
    expect(named("review_accepted")).toBe(0);
    expect(named("code_raises")).toBe(1);
  });
});

describe("feature spec", () => {
  it("names the first difference between two specs", () => {
    expect(featureSpecDifference(buildFeatureSpec(), buildFeatureSpec())).toBeNull();
    expect(featureSpecDifference(buildFeatureSpec(16), buildFeatureSpec())).toMatch(/16 hash buckets/);
    const renamed = buildFeatureSpec();
    renamed.stateFeatures[0] = "something_else";
    expect(featureSpecDifference(renamed, buildFeatureSpec())).toMatch(/stateFeatures\[0\] = "something_else"/);
  });
});
