import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { useBackend } from "../policy/backend.js";
import { MetaPolicy } from "../policy/meta-policy.js";
import { KoderzError } from "../src/errors.js";

describe("tensor backends", () => {
  it("starts the WASM backend from the package's own .wasm files, with no download", async () => {
    const active = await useBackend("wasm");
    expect(active.backend).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    const policy = MetaPolicy.initialise(1);
    expect(["fast", "standard", "deep"]).toContain(policy.chooseMode({ id: "t", prompt: "def f():\n  pass\n", entryPoint: "f", visibleExamples: [] }));
    policy.dispose();
  });

  it("gives the same greedy decisions on cpu and wasm for the same weights", async () => {
    const task = { id: "t", prompt: 'def add(a: int, b: int) -> int:\n    """ add two numbers """\n', entryPoint: "add", visibleExamples: [] };
    await useBackend("cpu");
    const onCpu = MetaPolicy.initialise(2);
    const weights = onCpu.network.readWeights();
    const cpuMode = onCpu.chooseMode(task);
    await useBackend("wasm");
    const { PolicyNetwork } = await import("../policy/network.js");
    const onWasm = new MetaPolicy(onCpu.featureSpec, PolicyNetwork.fromWeights(onCpu.network.architecture, weights));
    expect(onWasm.chooseMode(task)).toBe(cpuMode);
    onCpu.dispose();
    onWasm.dispose();
  });

  it("says why an explicitly requested native backend cannot run, and how to get it", async () => {
    const attempt = useBackend("node");
    await expect(attempt).rejects.toBeInstanceOf(KoderzError);
    await expect(attempt).rejects.toMatchObject({ code: "usage", message: expect.stringMatching(/--backend node is not usable here/) });
  });

  it("auto falls back past missing native packages and reports what it skipped", async () => {
    const active = await useBackend("auto");
    expect(["wasm", "cpu", "node", "node-gpu"]).toContain(active.backend);
    expect(active.description.length).toBeGreaterThan(0);
  });
});
