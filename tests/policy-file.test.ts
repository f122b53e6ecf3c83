import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MODES } from "../policy/actions.js";
import { useBackend } from "../policy/backend.js";
import { MetaPolicy } from "../policy/meta-policy.js";
import { observe } from "../policy/observation.js";
import { loadNetworkPolicy, loadPolicy, parsePolicyFile, savePolicy, serializePolicy, type TrainingMetadata } from "../policy/policy-file.js";
import { HAND_CASCADE, RulePolicy } from "../policy/rule-policy.js";
import { createPrng } from "../policy/prng.js";
import { KoderzError } from "../src/errors.js";
import { SyntheticEnvironment } from "../training/synthetic-environment.js";
import type { Observation } from "../policy/observation.js";

const training: TrainingMetadata = {
  env: "synthetic",
  synthetic: true,
  episodes: 0,
  seed: 7,
  lambdaPer1000Tokens: 0.001,
  backend: "cpu",
  trainedAt: "2025-01-01T00:00:00.000Z",
};

/** Observations from synthetic episodes played by the policy itself: mode decisions and agent decisions. */
async function sampleObservations(policy: MetaPolicy, count: number): Promise<Observation[]> {
  const env = new SyntheticEnvironment({ seed: 3 });
  const observations: Observation[] = [];
  while (observations.length < count) {
    let observation = await env.reset();
    for (;;) {
      observations.push(observation);
      const result = await env.step(policy.decide([observation], { rng: createPrng(observations.length) })[0]!.action);
      if (result.done) break;
      observation = result.state;
    }
  }
  return observations;
}

describe("policy files", () => {
  let directory: string;
  beforeAll(async () => {
    await useBackend("cpu");
    directory = await mkdtemp(path.join(tmpdir(), "koderz-policy-"));
  });

  it("give identical actions after save and load, greedy and sampled with the same seed", async () => {
    const policy = MetaPolicy.initialise(11);
    const file = path.join(directory, "roundtrip.json");
    await savePolicy(file, policy, training);
    const { policy: loaded, training: loadedTraining } = await loadNetworkPolicy(file, { backend: "cpu", purpose: "this test" });
    expect(loadedTraining).toEqual(training);

    const observations = await sampleObservations(policy, 200);
    const actions = (p: MetaPolicy, seed?: number) =>
      p.decide(observations, seed === undefined ? {} : { rng: createPrng(seed) }).map((d) => d.action);
    expect(actions(loaded)).toEqual(actions(policy));
    expect(actions(loaded, 5)).toEqual(actions(policy, 5));
    expect(actions(policy, 5)).not.toEqual(actions(policy, 6));
    const task = observations[0]!.task;
    expect(loaded.chooseMode(task)).toBe(policy.chooseMode(task));
    expect(MODES).toContain(loaded.chooseMode(task));
    policy.dispose();
    loaded.dispose();
  });

  it("keep an ensemble's every member: its averaged decisions are the same after save and load", async () => {
    const ensemble = MetaPolicy.ensemble([MetaPolicy.initialise(21, { ladder: true }), MetaPolicy.initialise(22, { ladder: true }), MetaPolicy.initialise(23, { ladder: true })]);
    const file = path.join(directory, "ensemble.json");
    await savePolicy(file, ensemble, { ...training, env: "replay", synthetic: false });
    const { policy: loaded } = await loadNetworkPolicy(file, { backend: "cpu", purpose: "this test" });
    expect(loaded.networks).toHaveLength(3);
    expect(loaded.featureSpec.stateSet).toBe("ladder");
    const observations = await sampleObservations(ensemble, 50);
    const probabilities = (p: MetaPolicy) => p.decide(observations).map((d) => Array.from(d.probabilities));
    expect(probabilities(loaded)).toEqual(probabilities(ensemble));
    // The mean of the members' distributions, not the first member's.
    const first = new MetaPolicy(ensemble.featureSpec, ensemble.network);
    expect(probabilities(first)).not.toEqual(probabilities(ensemble));
    ensemble.dispose();
    loaded.dispose();
  });

  it("refuse to continue training from a rule, and say what the file holds", async () => {
    const file = path.join(directory, "rule.json");
    await savePolicy(file, new RulePolicy(HAND_CASCADE), { ...training, env: "replay", synthetic: false });
    expect((await loadPolicy(file)).policy.kind).toBe("rule");
    await expect(loadNetworkPolicy(file, { purpose: "--learn" })).rejects.toMatchObject({ code: "bad_input", message: expect.stringMatching(/holds a rule \(cascade\(0,visible\)\), not a network: --learn needs a network/) });
  });

  it("load a policy that sees the evidence only (no task text), as a replay study may train, and it acts the same", async () => {
    const policy = MetaPolicy.initialise(15, { taskText: false });
    expect(policy.featureSpec.taskFeatures).toEqual([]);
    const file = path.join(directory, "evidence-only.json");
    await savePolicy(file, policy, { ...training, env: "replay", synthetic: false });
    const { policy: loaded } = await loadNetworkPolicy(file, { backend: "cpu", purpose: "this test" });
    expect(loaded.network.architecture.inputSize).toBe(policy.featureSpec.stateFeatures.length);
    const observations = await sampleObservations(policy, 50);
    expect(loaded.decide(observations).map((d) => d.action)).toEqual(policy.decide(observations).map((d) => d.action));
    // Two tasks in the same episode state look the same to it: it has nothing of the text to tell them apart.
    const [a, b] = [observations[0]!, { ...observations[0]!, task: { ...observations[0]!.task, id: "other", prompt: "def g(s: str) -> str:\n    pass\n" } }];
    expect(Array.from(loaded.features(a))).toEqual(Array.from(loaded.features(b)));
    policy.dispose();
    loaded.dispose();
  });

  it("keep the escalation threshold they were calibrated with, and then escalate only at or above it", async () => {
    const policy = MetaPolicy.initialise(16, { taskText: false });
    const file = path.join(directory, "calibrated.json");
    await savePolicy(file, policy, { ...training, env: "replay", synthetic: false, escalationThreshold: 0.9, successFloor: 0.95 });
    const { policy: loaded } = await loadPolicy(file, { backend: "cpu" });
    expect(loaded.escalationThreshold).toBe(0.9);
    // An untrained network is near uniform: never 90 % sure of Escalate, so where it may escalate it does not.
    const sampled = (await sampleObservations(policy, 10)).find((o) => o.allowed.kind === "agent")!;
    const observation: Observation = { ...sampled, allowed: { kind: "agent", agents: ["Stop", "Escalate"] } };
    expect(loaded.decide([observation])[0]!.action).toEqual({ kind: "agent", agent: "Stop" });
    expect(loaded.decide([observation], { escalationThreshold: 0 })[0]!.action).toEqual({ kind: "agent", agent: "Escalate" });
    policy.dispose();
    loaded.dispose();
  });

  it("decide the same way every time for the same input (greedy is deterministic)", () => {
    const policy = MetaPolicy.initialise(12);
    const task = { id: "t", prompt: "def f(x):\n    \"\"\" double x \"\"\"\n", entryPoint: "f", visibleExamples: [] };
    const first = policy.chooseMode(task);
    for (let i = 0; i < 5; i++) expect(policy.chooseMode(task)).toBe(first);
    const state = { ...observe(task).episode, mode: "fast" as const };
    expect(["Coder", "Debugger", "Stop"]).toContain(policy.chooseNextAgent(task, state));
    expect(policy.chooseNextAgent(task, { ...state, steps: 2 })).toBe("Stop"); // fast's budget is spent
    policy.dispose();
  });

  describe("a corrupt or mismatched file is refused with what is wrong and how to fix it", () => {
    let good: Record<string, unknown>;
    beforeAll(() => {
      const policy = MetaPolicy.initialise(13);
      good = JSON.parse(serializePolicy(policy, training)) as Record<string, unknown>;
      policy.dispose();
    });
    const expectRefusal = (text: string, message: RegExp) => {
      let error: unknown;
      try {
        parsePolicyFile(text, "p.json");
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(KoderzError);
      const koderzError = error as KoderzError;
      expect(koderzError.code).toBe("policy_file");
      expect(koderzError.message).toMatch(message);
      expect(koderzError.hint).toMatch(/koderz train-meta/);
    };
    // Each case damages the file in its own way, so the edit sees it as loosely typed JSON.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
    const edited = (edit: (file: any) => void): string => {
      const copy = structuredClone(good);
      edit(copy);
      return JSON.stringify(copy);
    };

    it("bad JSON", () => expectRefusal(JSON.stringify(good).slice(0, 500), /p\.json is not valid JSON/));
    it("not a policy file", () => expectRefusal(JSON.stringify({ hello: 1 }), /is not a koderz policy file/));
    it("another format version", () => expectRefusal(edited((f) => (f.formatVersion = 3)), /format version 3; this koderz reads versions 1 and 2/));
    it("a feature spec from another version", () =>
      expectRefusal(edited((f) => (f.featureSpec.version = 0)), /different features: it has feature version 0/));
    it("renamed features", () =>
      expectRefusal(edited((f) => (f.featureSpec.taskFeatures[0] = "prompt_bytes")), /taskFeatures\[0\] = "prompt_bytes"/));
    it("a weight of the wrong shape", () =>
      expectRefusal(edited((f) => (f.weights[0].shape = [10, 64])), /weight trunk\.0\.kernel with shape \[10,64\], expected \[\d+,64\]/));
    it("a missing weight", () => expectRefusal(edited((f) => f.weights.splice(2, 1)), /is missing weight trunk\.1\.kernel/));
    it("truncated weight data", () => {
      expectRefusal(edited((f) => (f.weights[1].data = f.weights[1].data.slice(0, 16))), /weight trunk\.0\.bias with 3 values, expected 64/);
      expectRefusal(edited((f) => (f.weights[1].data = f.weights[1].data.slice(0, 8))), /trunk\.0\.bias whose data is 6 bytes/);
    });
    it("damaged base64", () => expectRefusal(edited((f) => (f.weights[1].data = "@@@@" + f.weights[1].data.slice(4))), /not valid base64/));
    it("NaN weights", () =>
      expectRefusal(edited((f) => (f.weights[1].data = Buffer.from(new Float32Array(64).fill(NaN).buffer).toString("base64"))), /NaN or infinite/));
    it("a missing training field", () => expectRefusal(edited((f) => delete f.training.seed), /invalid field training\.seed/));
  });

  it("a file that does not exist is not_found, with the command that makes one", async () => {
    const missing = path.join(directory, "nope.json");
    await expect(loadPolicy(missing)).rejects.toMatchObject({ code: "not_found", hint: expect.stringMatching(/koderz train-meta .*--out/) });
  });

  it("a damaged file on disk is refused by loadPolicy too", async () => {
    const file = path.join(directory, "damaged.json");
    const policy = MetaPolicy.initialise(14);
    await savePolicy(file, policy, training);
    policy.dispose();
    await writeFile(file, (await readFile(file, "utf8")).slice(0, 1000));
    await expect(loadPolicy(file)).rejects.toMatchObject({ code: "policy_file" });
  });
});
