import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import type { Program, Verdict } from "../sandbox/sandbox.js";
import { testDataDir } from "./fixtures/datasets.js";
import { listenOnLoopback } from "./helpers/loopback-listener.js";
import { program, RIGHT_COMPLETION } from "./sandbox-attacks.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The process sandbox runs its runner inside bubblewrap: a root of Python, its standard library
 * and numpy alone, and namespaces of its own. Each attack below is written to pass if it worked,
 * so each must end failed; the honest program beside it must keep its "passed". Without
 * bubblewrap (KODERZ_PROCESS_SANDBOX=unconfined) the attacks are skipped, never run for real.
 */
describe("process sandbox fences", () => {
  let sandbox: ProcessSandbox;
  let hostDir: string;

  beforeAll(async () => {
    sandbox = await ProcessSandbox.open();
    hostDir = await mkdtemp(path.join(tmpdir(), "koderz-host-"));
    // Open to every uid, so that only the sandbox's own root can keep a program out of it.
    await chmod(hostDir, 0o777);
  });
  afterAll(async () => {
    await sandbox?.close();
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });

  function attack(id: string, source: string, timeoutSeconds = 5): Program {
    return { id, source, timeoutSeconds };
  }

  async function runBesideHonest(attacks: Program[], workers?: number): Promise<Map<string, Verdict>> {
    const verdicts = await sandbox.run([...attacks, program("honest", RIGHT_COMPLETION)], { workers });
    const byId = new Map(verdicts.map((verdict) => [verdict.id, verdict]));
    expect(byId.get("honest")?.result, "the honest program in the same batch").toBe("passed");
    for (const item of attacks) {
      const verdict = byId.get(item.id);
      expect(verdict, `a verdict for ${item.id}`).toBeDefined();
      expect(verdict!.result, `${item.id} must not pass`).toMatch(/^(failed: |timed out$)/);
    }
    return byId;
  }

  test("the sandbox says it is confined", (context) => {
    if (process.env.KODERZ_PROCESS_SANDBOX === "unconfined") context.skip();
    expect(sandbox.isolation).toMatchObject({ confined: true, privateNetwork: true, privatePids: true, privateIpc: true });
  });

  test("programs read no file of the host: not the datasets, not the repository, not /etc", async (context) => {
    if (!sandbox.isolation.confined) context.skip();
    const secrets = [
      path.join(testDataDir, "HumanEval.jsonl.gz"),
      path.join(REPO_ROOT, "package.json"),
      fileURLToPath(import.meta.url),
      "/etc/passwd",
      "/etc/hostname",
    ];
    for (const secret of secrets) expect(existsSync(secret), `${secret} exists on the host`).toBe(true);
    const byId = await runBesideHonest([
      ...secrets.map((secret, i) => attack(`read-${i}`, `assert len(open(${JSON.stringify(secret)}, "rb").read()) > 0\n`)),
      // Looking around instead: nothing but Python, its libraries and the runner may be found.
      attack(
        "find-anything",
        "import os\nfound = [os.path.join(p, n) for p, _, names in os.walk('/') if not p.startswith(('/proc', '/sys', '/dev', '/usr/lib', '/lib')) for n in names]\nassert [f for f in found if not f.startswith(('/koderz/runner.py', '/etc/ld.so.cache', '/etc/alternatives/', '/usr/bin/python3'))], found\n",
        20,
      ),
    ]);
    expect(byId.get("read-0")!.result).toContain("No such file or directory");
    expect(byId.get("read-3")!.result).toContain("No such file or directory");
  });

  test("writes outside the program's own directory fail and never reach the host", async (context) => {
    if (!sandbox.isolation.confined) context.skip();
    const etcTarget = `/etc/koderz-test-${process.pid}`;
    const hostTarget = path.join(hostDir, "owned.txt");
    await runBesideHonest([
      attack("write-etc", `open(${JSON.stringify(etcTarget)}, "w").write("owned")\n`),
      attack("write-host-dir", `import os\nos.makedirs(${JSON.stringify(hostDir)}, exist_ok=True)\nopen(${JSON.stringify(hostTarget)}, "w").write("owned")\nassert False\n`),
      attack("write-python", "import numpy, os\nopen(os.path.join(os.path.dirname(numpy.__file__), 'owned.py'), 'w').write('owned')\n"),
      attack("mount-over-root", `import ctypes\nassert ctypes.CDLL(None).mount(b"none", b"/usr", b"tmpfs", 0, None) == 0\n`),
    ]);
    const [own] = await sandbox.run([attack("write-own-dir", "open('here.txt', 'w').write('fine')\nassert open('here.txt').read() == 'fine'\n")]);
    expect(own?.result).toBe("passed");
    expect(existsSync(etcTarget)).toBe(false);
    expect(await readdir(hostDir)).toEqual([]);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(hostDir);
  });

  test("programs connect to no unix socket of the host", async (context) => {
    if (!sandbox.isolation.confined) context.skip();
    const socketPath = path.join(hostDir, "host.sock");
    // The abstract namespace belongs to the network namespace: a host listener there is out of reach too.
    const abstractName = `\0koderz-test-abstract-${process.pid}`;
    let accepted = 0;
    const listen = async (where: string): Promise<Server> => {
      const server = createServer((socket) => {
        accepted += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(where, resolve));
      return server;
    };
    const servers = [await listen(socketPath), await listen(abstractName)];
    await chmod(socketPath, 0o777);
    try {
      const connect = (target: string): string => `import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect(${JSON.stringify(target)})\n`;
      await runBesideHonest([
        attack("connect-host-socket", connect(socketPath)),
        attack("connect-docker", connect("/var/run/docker.sock")),
        attack("connect-abstract", connect(abstractName)),
      ]);
      expect(accepted, "connections that reached the host's sockets").toBe(0);
    } finally {
      for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("no network: the host's loopback listener is out of reach", async (context) => {
    if (!sandbox.isolation.privateNetwork) context.skip();
    const listener = await listenOnLoopback();
    try {
      await runBesideHonest([
        attack("reach-host-listener", `import socket\nsocket.create_connection(('127.0.0.1', ${listener.port}), timeout=2).close()\n`),
        attack("find-an-interface", "import socket\nassert [name for _, name in socket.if_nameindex() if name != 'lo']\n"),
      ]);
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  test("programs see no process of the host", async (context) => {
    if (!sandbox.isolation.privatePids) context.skip();
    // This test's own node process is on the host: a program that could see it would find it.
    await runBesideHonest([
      attack(
        "see-host-processes",
        "import os\ncommands = []\nfor pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n    try:\n        commands.append(open(f'/proc/{pid}/cmdline', 'rb').read())\n    except OSError:\n        pass\nassert any(b'node' in command or b'vitest' in command for command in commands), commands\n",
      ),
      attack("see-host-pid", `import os\nassert os.path.exists('/proc/${process.pid}/cmdline') and b'node' in open('/proc/${process.pid}/cmdline', 'rb').read()\n`),
    ]);
  });

  test("SysV shared memory a program makes dies with the sandbox, never on the host", async (context) => {
    if (!sandbox.isolation.privateIpc) context.skip();
    // A size no one else uses, to find the segment by.
    const size = 4_000_000 + (process.pid % 1000) * 4096;
    const hostSegments = (): string[] => readFileSync("/proc/sysvipc/shm", "utf8").split("\n").filter((line) => line.trim().split(/\s+/)[3] === String(size));
    const [made] = await sandbox.run([
      attack("make-shm", `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.shmget(0, ${size}, 0o1000 | 0o666) >= 0, ctypes.get_errno()\n`),
    ]);
    expect(made?.result, "the program could make its segment in the sandbox").toBe("passed");
    expect(hostSegments(), "the segment is not the host's").toEqual([]);
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

/** This process's batch cgroups, wherever the cgroup filesystem puts them (v1: one per controller). */
function batchCgroups(): string[] {
  const found: string[] = [];
  const walk = (directory: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(directory, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith(`koderz-sandbox-${process.pid}-`)) found.push(path.join(directory, name));
      else if (depth < 3) walk(path.join(directory, name), depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  return found;
}

describe("process sandbox batch cgroup", () => {
  test("a batch runs in a cgroup of its own with memory, pids and CPU limits, gone once the sandbox closes", async (context) => {
    const sandbox = await ProcessSandbox.open({ workers: 2 });
    try {
      if (!sandbox.isolation.batchCgroup) context.skip();
      const running = sandbox.run([{ id: "wait", source: "import time\ntime.sleep(4)\n", timeoutSeconds: 20 }]);
      // Until the program is in: the runner starts, then forks its candidates into the same cgroup.
      let limits: string[] = [];
      for (let attempt = 0; attempt < 100 && limits.length < 3; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        limits = batchCgroups().flatMap((directory) => {
          if (readFileSync(path.join(directory, "cgroup.procs"), "utf8").trim() === "") return [];
          return ["memory.max", "memory.limit_in_bytes", "pids.max", "cpu.max", "cpu.cfs_quota_us"].flatMap((file) => {
            const value = existsSync(path.join(directory, file)) ? readFileSync(path.join(directory, file), "utf8").trim() : "";
            return value && value !== "max" && !value.startsWith("max ") && value !== "-1" ? [file] : [];
          });
        });
      }
      expect(new Set(limits.map((file) => file.split(".")[0]))).toEqual(new Set(["memory", "pids", "cpu"]));
      expect((await running)[0]?.result).toBe("passed");
    } finally {
      await sandbox.close();
    }
    expect(batchCgroups(), "cgroups left after close()").toEqual([]);
  });
});
