import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bubblewrapArgs, ProcessSandbox } from "../sandbox/process-sandbox.js";
import { pythonRoot } from "../sandbox/python-root.js";
import { RUNNER_CAPABILITIES, RUNNER_CAPABILITIES_UNFILTERED } from "../sandbox/runner-privileges.js";
import { runnerPath } from "../sandbox/runner-source.js";
import type { Program, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { BOTH_SANDBOXES, openWithProgramUids } from "./helpers/sandboxes.js";
import { program, RIGHT_COMPLETION } from "./sandbox-attacks.js";

/**
 * What each program has of its own beyond its uid: an IPC namespace (SysV shared memory, queues
 * and semaphores unseen by any other program, dying with it), and a syscall filter. The runner
 * holds CAP_SYS_ADMIN to make those namespaces, and Docker's default seccomp profile then opens
 * namespaces and mounts to every process of the container: the programs below try each door it
 * would open, and pass only if every one stays shut. Honest programs beside them keep "passed".
 */

/** Keys no other test uses, fresh per run. */
const KEY = 0x6b700000 + (randomBytes(2).readUInt16BE() << 4);

/** Makes SysV objects, shows where, waits (up to 4 s) for the peer in the other slot to look. */
function holdSysv(tag: string): Program {
  return {
    id: "hold-sysv",
    source: [
      "import ctypes, os, time",
      "libc = ctypes.CDLL(None, use_errno=True)",
      `assert libc.shmget(${KEY}, 1 << 20, 0o1666) >= 0, ctypes.get_errno()`,
      `assert libc.msgget(${KEY} + 1, 0o1666) >= 0, ctypes.get_errno()`,
      `assert libc.semget(${KEY} + 2, 1, 0o1666) >= 0, ctypes.get_errno()`,
      `with open('/tmp/${tag}-held', 'w') as marker:`,
      "    marker.write(os.readlink('/proc/self/ns/ipc'))",
      "deadline = time.monotonic() + 4",
      `while not os.path.exists('/tmp/${tag}-looked'):`,
      "    assert time.monotonic() < deadline, 'the peer never looked'",
      "    time.sleep(0.01)",
    ].join("\n"),
    timeoutSeconds: 8,
  };
}

/** Run at the same time in the other slot: finds none of hold-sysv's objects, by key or by listing. */
function peekSysv(tag: string): Program {
  return {
    id: "peek-sysv",
    source: [
      "import ctypes, os, time",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "deadline = time.monotonic() + 4",
      `while not os.path.exists('/tmp/${tag}-held'):`,
      "    assert time.monotonic() < deadline, 'hold-sysv never ran beside this program'",
      "    time.sleep(0.01)",
      "time.sleep(0.05)",
      "seen = []",
      `if libc.shmget(${KEY}, 0, 0) >= 0: seen.append('shm by key')`,
      `if libc.msgget(${KEY} + 1, 0) >= 0: seen.append('queue by key')`,
      `if libc.semget(${KEY} + 2, 0, 0) >= 0: seen.append('semaphores by key')`,
      "for kind in ('shm', 'msg', 'sem'):",
      "    rows = open(f'/proc/sysvipc/{kind}').read().splitlines()[1:]",
      `    seen += [row for row in rows if ${KEY} <= int(row.split()[0]) < ${KEY} + 3]`,
      `theirs = open('/tmp/${tag}-held').read()`,
      "if theirs == os.readlink('/proc/self/ns/ipc'): seen.append('the same IPC namespace: ' + theirs)",
      `open('/tmp/${tag}-looked', 'w').close()`,
      "assert not seen, seen",
    ].join("\n"),
    timeoutSeconds: 8,
  };
}

/** The next program of hold-sysv's slot: nothing of it is left. */
const FIND_SYSV: Program = {
  id: "find-sysv",
  source: [
    "import ctypes",
    "libc = ctypes.CDLL(None, use_errno=True)",
    "left = []",
    `if libc.shmget(${KEY}, 0, 0) >= 0: left.append('shm')`,
    `if libc.msgget(${KEY} + 1, 0) >= 0: left.append('queue')`,
    `if libc.semget(${KEY} + 2, 0, 0) >= 0: left.append('semaphores')`,
    "assert not left, left",
  ].join("\n"),
  timeoutSeconds: 5,
};

/**
 * Every door CAP_SYS_ADMIN in the sandbox could open to an unprivileged program: each attempt
 * that works is listed, and the program passes only when none did.
 */
const ESCAPES: Program = {
  id: "escapes",
  source: `
import ctypes, errno, os, posix
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
opened = []
NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET = 0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
SIGCHLD = 17

def attempt(name, result):
    if result >= 0:
        opened.append(name)
    return result

# The same syscall through the x32 ABI's numbers (bit 30), which a careless filter lets by: in a
# child, as the filter may kill the caller outright; it counts as opened only if the child says so.
pid = posix.fork()
if pid == 0:
    os._exit(0 if libc.syscall(0x40000000 | 272, ctypes.c_ulong(NEWUSER)) == 0 else 1)
if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0:
    opened.append("x32 unshare user")

for name, flags in (("user", NEWUSER), ("mount", NEWNS), ("ipc", NEWIPC), ("net", NEWNET), ("uts", NEWUTS),
                    ("cgroup", NEWCGROUP), ("user+mount", NEWUSER | NEWNS)):
    attempt("unshare " + name, libc.unshare(flags))

# clone(2) straight from the syscall table, a user namespace asked for: the child leaves at once.
for name, flags in (("user", NEWUSER), ("mount", NEWNS), ("net", NEWNET)):
    pid = libc.syscall(56, ctypes.c_ulong(flags | SIGCHLD), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if pid == 0:
        os._exit(0)
    if attempt("clone " + name, pid) > 0:
        os.waitpid(pid, 0)

# clone3(2): flags in a struct a filter cannot read.
args = (ctypes.c_uint64 * 11)()
args[0], args[4] = NEWUSER, SIGCHLD
pid = libc.syscall(435, ctypes.byref(args), ctypes.c_size_t(88))
if pid == 0:
    os._exit(0)
if attempt("clone3 user", pid) > 0:
    os.waitpid(pid, 0)

fd = os.open("/proc/self/ns/ipc", os.O_RDONLY)
attempt("setns ipc", libc.setns(fd, 0))
os.close(fd)
attempt("mount tmpfs", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
attempt("umount /proc", libc.umount2(b"/proc", 2))
attempt("chroot", libc.chroot(b"/tmp"))
attempt("add_key", libc.syscall(248, b"user", b"koderz", b"x", ctypes.c_size_t(1), ctypes.c_int(-2)))
params = (ctypes.c_uint8 * 120)()
attempt("io_uring_setup", libc.syscall(425, ctypes.c_uint(4), ctypes.byref(params)))
attempt("setuid 0", libc.setuid(0))
attempt("sethostname", libc.sethostname(b"pwned", 5))
attempt("unshare pid", libc.unshare(NEWPID))  # last: once it worked, no fork would

status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
for field in ("CapEff", "CapPrm", "CapAmb", "CapInh"):
    if int(status[field].strip(), 16):
        opened.append(field + " " + status[field].strip())
if status["NoNewPrivs"].strip() != "1":
    opened.append("new privileges allowed")
assert not opened, opened
`,
  timeoutSeconds: 10,
};

describe.each(BOTH_SANDBOXES)("$name sandbox: each program's IPC namespace and syscall filter", (sandboxKind) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await openWithProgramUids(sandboxKind);
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  function results(verdicts: Verdict[]): Array<[string, string]> {
    return verdicts.map((verdict) => [verdict.id, verdict.result]);
  }

  const honest = Array.from({ length: 4 }, (_, i) => program(`honest-${i}`, RIGHT_COMPLETION));

  test("a program's SysV objects are unseen by the program running beside it, and gone for the next one of its slot", async () => {
    const tag = `koderz-ipc-${randomBytes(6).toString("hex")}`;
    // Two slots: hold-sysv and peek-sysv start together and wait for each other.
    const beside = await sandbox.run([holdSysv(tag), peekSysv(tag), ...honest], { workers: 2 });
    expect(results(beside)).toEqual([["hold-sysv", "passed"], ["peek-sysv", "passed"], ...honest.map((item): [string, string] => [item.id, "passed"])]);
    // One slot: the next program of the slot finds nothing under the same keys.
    const after = await sandbox.run([holdSysvAlone(), FIND_SYSV, honest[0]!], { workers: 1 });
    expect(results(after)).toEqual([["hold-alone", "passed"], ["find-sysv", "passed"], [honest[0]!.id, "passed"]]);
  });

  test("a program cannot make namespaces, mount, setns or regain a capability, and honest programs beside it pass", async () => {
    const verdicts = await sandbox.run([ESCAPES, ...honest], { workers: 2 });
    expect(results(verdicts)).toEqual([["escapes", "passed"], ...honest.map((item): [string, string] => [item.id, "passed"])]);
  });

  test.runIf(sandboxKind.name === "process")("the process sandbox says each program has its IPC namespace and syscall filter", () => {
    expect((sandbox as ProcessSandbox).isolation).toMatchObject({ programIpc: true, syscallFilter: true });
  });
});

/** Makes the same objects and leaves them: they must not outlive it. */
function holdSysvAlone(): Program {
  return {
    id: "hold-alone",
    source: [
      "import ctypes",
      "libc = ctypes.CDLL(None, use_errno=True)",
      `assert libc.shmget(${KEY}, 1 << 20, 0o1600) >= 0, ctypes.get_errno()`,
      `assert libc.msgget(${KEY} + 1, 0o1600) >= 0, ctypes.get_errno()`,
      `assert libc.semget(${KEY} + 2, 1, 0o1600) >= 0, ctypes.get_errno()`,
    ].join("\n"),
    timeoutSeconds: 5,
  };
}

/**
 * Without libseccomp the runner cannot filter its programs' syscalls: holding CAP_SYS_ADMIN it
 * refuses to start (programs would get namespaces and mounts), and without it it runs, saying
 * that programs get neither an IPC namespace of their own nor the filter.
 */
describe.runIf(process.getuid?.() === 0)("the runner without libseccomp", () => {
  async function runnerWithoutLibseccomp(capabilities: readonly string[]) {
    const root = await pythonRoot("/usr/bin/python3");
    const library = root.args.find((arg) => arg.startsWith("/") && arg.includes("libseccomp.so"));
    expect(library, "the sandbox's root binds libseccomp").toBeDefined();
    const args = bubblewrapArgs(root, runnerPath(), true, capabilities).slice(0, -1); // without the final "--"
    const config = JSON.stringify({ workers: 1, workRoot: "/work", programUidBase: 61000 });
    return execa("bwrap", [...args, "--ro-bind", "/dev/null", realpathSync(library!), "--", root.python, "-I", "-B", "/koderz/runner.py", config], {
      input: "",
      reject: false,
      timeout: 60_000,
    });
  }

  test("holding CAP_SYS_ADMIN, it refuses to run programs, and says why", async () => {
    const run = await runnerWithoutLibseccomp(RUNNER_CAPABILITIES);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).not.toContain('"ready"');
    expect(run.stderr).toContain("refusing to run programs: CAP_SYS_ADMIN is held but the syscall filter cannot be installed");
  });

  test("without it, it runs and says programs get no IPC namespace of their own and no filter", async () => {
    const run = await runnerWithoutLibseccomp(RUNNER_CAPABILITIES_UNFILTERED);
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout.split("\n")[0]!)).toMatchObject({ ready: true, programIpc: false, syscallFilter: false });
  });
});
