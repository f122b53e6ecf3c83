import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DockerSandbox } from "../sandbox/docker-sandbox.js";
import { connectEngine } from "../sandbox/engine.js";
import { RUNNER_CAPABILITIES } from "../sandbox/runner-privileges.js";
import { requireDockerSandbox, sandboxContainers } from "./helpers/docker.js";

/**
 * The Docker sandbox's container is the batch's fence as a whole: one cgroup with memory, pids
 * and CPU limits holding the runner and every program, and IPC and network of its own. The
 * attacks that these stop are in sandbox-security.test.ts; here, that they are set at all.
 */
describe("docker sandbox container limits", () => {
  let sandbox: DockerSandbox;

  beforeAll(async () => {
    await requireDockerSandbox();
    sandbox = new DockerSandbox({ pool: { maxIdle: 1, idleMs: 60_000 } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  test("a program finds itself in a cgroup with memory, pids and CPU limits", async () => {
    // cgroup v1 (one hierarchy per controller) or v2 (one tree): the container's own files either way.
    const source = `
import os
def first(*paths):
    for path in paths:
        if os.path.exists(path):
            return open(path).read().strip()
    raise AssertionError(f"none of {paths}")
memory = first("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
pids = first("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max")
cpu = first("/sys/fs/cgroup/cpu.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us")
assert memory != "max" and int(memory) < 1 << 50, memory
assert pids != "max" and int(pids) < 100000, pids
assert cpu.split()[0] not in ("max", "-1"), cpu
`;
    const [verdict] = await sandbox.run([{ id: "limits", source, timeoutSeconds: 10 }], { workers: 2 });
    expect(verdict?.result).toBe("passed");
  });

  test("the container has IPC and network of its own and no capability but the runner's", async () => {
    await sandbox.run([{ id: "warm", source: "pass\n", timeoutSeconds: 5 }], { workers: 2 });
    const [id] = await sandboxContainers();
    expect(id, "the warm container").toBeDefined();
    const { HostConfig } = await connectEngine().getContainer(id!).inspect();
    expect(HostConfig.IpcMode).toBe("private");
    expect(HostConfig.NetworkMode).toBe("none");
    expect(HostConfig.CapDrop).toEqual(["ALL"]);
    expect(HostConfig.CapAdd).toEqual([...RUNNER_CAPABILITIES]);
    expect(HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(HostConfig.Memory).toBeGreaterThan(0);
    expect(HostConfig.NanoCpus).toBeGreaterThan(0);
  });
});
