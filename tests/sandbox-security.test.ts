import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DockerSandbox } from "../sandbox/docker-sandbox.js";
import type { Program, Verdict } from "../sandbox/sandbox.js";
import { requireDockerSandbox, sandboxContainers } from "./helpers/docker.js";
import { listenOnLoopback } from "./helpers/loopback-listener.js";
import { program, RIGHT_COMPLETION } from "./sandbox-attacks.js";

/**
 * Real attacks in the real Docker sandbox. Each attack program is written so that it would
 * pass if the attack worked; so each must end as failed or timed out. The batch must end, the
 * honest program in it must still pass, and nothing may reach the host.
 */
describe("docker sandbox against hostile programs", () => {
  let sandbox: DockerSandbox;
  let hostDir: string;

  beforeAll(async () => {
    await requireDockerSandbox();
    sandbox = new DockerSandbox();
    hostDir = await mkdtemp(path.join(tmpdir(), "koderz-host-"));
  });
  afterAll(async () => {
    await sandbox?.close();
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });

  function attack(id: string, source: string, timeoutSeconds = 3): Program {
    return { id, source, timeoutSeconds };
  }

  /**
   * Runs the attacks, then an honest program. `workers: 1` where an attack hits whatever runs
   * beside it (programs share one user, so they can kill or starve each other; that ends as
   * failed, never passed, but the honest program would not be the test's to judge).
   */
  async function runAttacks(attacks: Program[], workers?: number): Promise<Map<string, Verdict>> {
    const verdicts = await sandbox.run([...attacks, program("honest", RIGHT_COMPLETION)], { workers });
    const byId = new Map(verdicts.map((verdict) => [verdict.id, verdict]));
    expect(byId.get("honest")?.result, "the honest program in the same batch").toBe("passed");
    return byId;
  }

  function expectStopped(verdict: Verdict | undefined): void {
    expect(verdict, "a verdict for every attack").toBeDefined();
    expect(verdict!.passed, `${verdict!.id}: ${verdict!.result}`).toBe(false);
    expect(verdict!.result).toMatch(/^(failed: |timed out$)/);
  }

  // Network attacks aim only at this machine's loopback (a listener the test owns) and at the
  // container's own view of interfaces and routes: no packet is ever addressed off the machine.
  test("no network: no interface but loopback, no route, and the host's listeners are out of reach", async () => {
    const listener = await listenOnLoopback();
    try {
      const byId = await runAttacks([
        attack("find-an-interface", "import socket\nassert [name for _, name in socket.if_nameindex() if name != 'lo']\n"),
        attack("find-a-route", "lines = open('/proc/net/route').read().splitlines()[1:]\nassert lines, 'no routes'\n"),
        attack("reach-host-listener", `import socket\nsocket.create_connection(('127.0.0.1', ${listener.port}), timeout=2).close()\n`),
      ]);
      for (const id of ["find-an-interface", "find-a-route", "reach-host-listener"]) expectStopped(byId.get(id));
      expect(listener.connections(), "connections that reached the host's listener").toBe(0);
    } finally {
      await listener.close();
    }
  });

  test("a fork bomb times out and the batch goes on", async () => {
    const bomb = "import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass\n";
    const byId = await runAttacks([attack("fork-bomb", bomb, 2)], 1);
    expectStopped(byId.get("fork-bomb"));
  });

  test("a memory bomb fails", async () => {
    const byId = await runAttacks([
      attack("grow-list", "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))\n", 10),
      attack("one-huge-block", "block = bytearray(64 * 1024 * 1024 * 1024)\n", 10),
    ]);
    expectStopped(byId.get("grow-list"));
    expectStopped(byId.get("one-huge-block"));
  });

  test("writes outside the work dir fail: root, /etc, /usr, Python itself", async () => {
    const targets = ["/koderz-owned", "/etc/koderz-owned", "/usr/koderz-owned", "/usr/lib/python3/dist-packages/numpy/__init__.py", "/etc/passwd"];
    const attacks = targets.map((target, i) => attack(`write-${i}`, `open(${JSON.stringify(target)}, "a").write("owned")\n`));
    const byId = await runAttacks(attacks);
    for (const item of attacks) expectStopped(byId.get(item.id));
  });

  test("nothing a program writes reaches the host", async () => {
    const target = path.join(hostDir, "owned.txt");
    // Inside the container this path is only the container's own tmpfs, if anything.
    const writer = `import os\nos.makedirs(${JSON.stringify(hostDir)}, exist_ok=True)\nopen(${JSON.stringify(target)}, "w").write("owned")\n`;
    await runAttacks([attack("write-host-path", writer), attack("write-work-dir", "open('here.txt', 'w').write('fine')\n")]);
    expect(existsSync(target)).toBe(false);
    expect(await readdir(hostDir)).toEqual([]);
  });

  test("a program cannot stop the runner: the batch ends with every verdict", async () => {
    const byId = await runAttacks([
      attack("kill-everything", "import posix\nfor pid in (1, posix.getppid(), -1):\n    try:\n        posix.kill(pid, 9)\n    except OSError:\n        pass\nimport time\ntime.sleep(0.2)\nassert False\n"),
      attack("escape-group", "import posix, time\nif posix.fork() == 0:\n    posix.setsid()\n    time.sleep(60)\nassert False\n"),
    ], 1);
    expectStopped(byId.get("kill-everything"));
    expectStopped(byId.get("escape-group"));
  });

  test("privileges: not root, no capabilities, no new privileges", async () => {
    const byId = await runAttacks([
      attack("is-root", "import os\nassert os.getuid() == 0\n"),
      attack("chroot", "import posix\nposix.chroot('/')\n"),
      attack("mount-proc", "import ctypes\nassert ctypes.CDLL(None).mount(b'none', b'/work', b'tmpfs', 0, None) == 0\n"),
    ]);
    for (const id of ["is-root", "chroot", "mount-proc"]) expectStopped(byId.get(id));
  });

  test("no container is left behind, even after an aborted batch", async () => {
    // Warm containers of earlier, clean batches may wait for the next one; the aborted batch's may not.
    const warmBefore = await sandboxContainers();
    const controller = new AbortController();
    const slow = Array.from({ length: 4 }, (_, i) => attack(`sleep-${i}`, "import time\ntime.sleep(1)\n"));
    await sandbox.run(slow, { workers: 3, signal: controller.signal, onVerdict: () => controller.abort() });
    const after = await sandboxContainers();
    expect(after.filter((id) => !warmBefore.includes(id))).toEqual([]);
    await sandbox.close();
    expect(await sandboxContainers()).toEqual([]);
  });
});
