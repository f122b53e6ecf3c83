import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import { listenOnLoopback } from "./helpers/loopback-listener.js";
import { program, RIGHT_COMPLETION } from "./sandbox-attacks.js";

/**
 * The process sandbox is the weaker fallback; these tests check the fences it reports having.
 * A fence this machine cannot give is skipped, never attacked for real: without a read-only
 * view of the host, a write test would write the host's files.
 */
describe("process sandbox fences", () => {
  let sandbox: ProcessSandbox;
  let hostDir: string;

  beforeAll(async () => {
    sandbox = await ProcessSandbox.open();
    hostDir = await mkdtemp(path.join(tmpdir(), "koderz-host-"));
  });
  afterAll(async () => {
    await sandbox?.close();
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });

  test("host files are read-only to programs, and mounts do not reach the host", async (context) => {
    if (!sandbox.isolation.readOnlyHost) context.skip();
    const etcTarget = `/etc/koderz-test-${process.pid}`;
    const hostTarget = path.join(hostDir, "owned.txt");
    // Open to every uid, so that only the read-only view of the host can stop the write.
    await chmod(hostDir, 0o777);
    const verdicts = await sandbox.run([
      { id: "write-etc", source: `open(${JSON.stringify(etcTarget)}, "w").write("owned")\n`, timeoutSeconds: 3 },
      { id: "write-host-dir", source: `open(${JSON.stringify(hostTarget)}, "w").write("owned")\n`, timeoutSeconds: 3 },
      {
        id: "mount-over-host-dir",
        source: `import ctypes\nassert ctypes.CDLL(None).mount(b"none", ${JSON.stringify(hostDir)}.encode(), b"tmpfs", 0, None) == 0\n`,
        timeoutSeconds: 3,
      },
      { id: "write-own-dir", source: "open('here.txt', 'w').write('fine')\nassert open('here.txt').read() == 'fine'\n", timeoutSeconds: 3 },
    ]);
    const results = Object.fromEntries(verdicts.map((verdict) => [verdict.id, verdict.result]));
    expect(results["write-etc"]).toMatch(/^failed: .*Read-only file system/);
    expect(results["write-host-dir"]).toMatch(/^failed: .*Read-only file system/);
    expect(results["mount-over-host-dir"]).toMatch(/^failed: /);
    expect(results["write-own-dir"]).toBe("passed");
    expect(existsSync(etcTarget)).toBe(false);
    expect(await readdir(hostDir)).toEqual([]);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(hostDir);
  });

  test("no network when the machine allows a private network namespace", async (context) => {
    if (!sandbox.isolation.privateNetwork) context.skip();
    // Without a private namespace this would reach the listener: loopback is the host's.
    const listener = await listenOnLoopback();
    try {
      const [connect, honest] = await sandbox.run([
        { id: "reach-host-listener", source: `import socket\nsocket.create_connection(('127.0.0.1', ${listener.port}), timeout=2).close()\n`, timeoutSeconds: 5 },
        program("honest", RIGHT_COMPLETION),
      ]);
      expect(connect?.result).toMatch(/^failed: /);
      expect(honest?.result).toBe("passed");
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  test("a program that kills everything it can does not stop the batch", async (context) => {
    // Without a pid namespace, kill(-1) would reach the caller's own processes.
    if (!sandbox.isolation.privatePids) context.skip();
    const verdicts = await sandbox.run([
      { id: "kill-everything", source: "import posix\nfor pid in (1, posix.getppid(), -1):\n    try:\n        posix.kill(pid, 9)\n    except OSError:\n        pass\nassert False\n", timeoutSeconds: 3 },
      program("honest", RIGHT_COMPLETION),
    ], { workers: 1 });
    expect(verdicts.map((verdict) => verdict.result)).toEqual(["failed: ", "passed"]);
  });
});
