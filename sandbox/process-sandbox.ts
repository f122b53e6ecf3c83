import { chmod, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
import { DEFAULT_PROGRAM_LIMITS, PROGRAM_UID_BASE, type ProgramLimits, type RunnerConfig } from "./runner-protocol.js";
import { RunnerPool, type PoolLimits, type StartedRunner } from "./runner-pool.js";
import { keepTail } from "./runner-session.js";
import { pythonRoot, type PythonRoot } from "./python-root.js";
import { joinCgroupsPrefix, makeRunnerCgroup, type RunnerCgroupLimits } from "./runner-cgroup.js";
import { RUNNER_CAPABILITIES, RUNNER_CAPABILITIES_IN_USER_NAMESPACE, RUNNER_CAPABILITIES_UNFILTERED } from "./runner-privileges.js";
import { parseRunnerLine, type RunnerReady } from "./runner-protocol.js";
import { runnerPath } from "./runner-source.js";
import type { Program, RunOptions, Sandbox, Verdict } from "./sandbox.js";

// execa is imported where a process is started: most commands start none, and it is some 100 files to load.

export interface ProcessSandboxOptions {
  /** The interpreter to run; default `python3` from PATH. */
  python?: string;
  /** Default for RunOptions.workers: the host's cores. */
  workers?: number;
  limits?: Partial<ProgramLimits>;
  /** Warm runners kept across batches (default: defaultPoolLimits()). */
  pool?: PoolLimits;
}

/** What fences the process sandbox puts up on this machine, for the user's warning. */
export interface ProcessIsolation {
  /**
   * bubblewrap confines the runner and its programs: a root filesystem of Python, its standard
   * library and numpy alone (no host file, dataset or socket), and their own network, IPC, pid,
   * UTS and mount namespaces. False only when KODERZ_PROCESS_SANDBOX=unconfined asked for none.
   */
  confined: boolean;
  /** Programs have no network (a private network namespace). */
  privateNetwork: boolean;
  /** Programs see and signal no host process (a private pid namespace). */
  privatePids: boolean;
  /** SysV IPC objects and POSIX message queues die with the runner (a private IPC namespace). */
  privateIpc: boolean;
  /**
   * Each program has an IPC namespace of its own: its SysV objects and POSIX queues are unseen by
   * the programs beside it and after it, and die with it (as root: the runner needs CAP_SYS_ADMIN).
   */
  programIpc: boolean;
  /** Each program runs under a seccomp filter: no namespaces, mounts, BPF, keyrings or io_uring. */
  syscallFilter: boolean;
  /**
   * Each program runs under a uid of its own slot rather than as the runner (when root runs
   * koderz and such a uid can read Python): it cannot reach its judge, the runner or another
   * program, and all its processes and files are removed after it.
   */
  programUids: boolean;
  /**
   * The runner and its programs share a cgroup of their own with memory, pids and CPU limits
   * for the batch as a whole, killed with it (as root, where the cgroup filesystem allows).
   */
  batchCgroup: boolean;
}

/** Set to "unconfined" to run programs with rlimits alone where bubblewrap cannot run (never for untrusted output). */
export const UNCONFINED_ENV = "KODERZ_PROCESS_SANDBOX";
/** Where the runner's programs get their directories, inside the sandbox. */
const SANDBOX_WORK_ROOT = "/work";
/** Where the runner's source is bound, inside the sandbox. */
const SANDBOX_RUNNER = "/koderz/runner.py";
const TMPFS_BYTES = { work: 64 << 20, tmp: 16 << 20, shm: 16 << 20 };

/** How the runner starts: the command before the interpreter and where programs work. */
interface Confinement {
  /** The command prefix, and the runner's path and work root as the runner sees them. */
  prefix: string[];
  runner: string;
  workRoot: string | null;
  /** What the runner said it gives each program here (its ready line, in the probe). */
  programIpc: boolean;
  syscallFilter: boolean;
}

/**
 * Runs the batch with this machine's Python and the same runner as the Docker sandbox, inside
 * bubblewrap (see bubblewrapArgs): programs see Python, its standard library and numpy, and
 * nothing else of the host; they have no network, and their own IPC, pid, UTS and mount
 * namespaces. Run as root, the runner keeps only the capabilities it needs to hand each program a
 * uid of its own slot; run as another user, bubblewrap needs an unprivileged user namespace, and
 * programs share the runner's uid (see select.ts's warning for what that leaves open).
 */
export class ProcessSandbox implements Sandbox {
  readonly name = "process" as const;
  private readonly pool: RunnerPool;

  private constructor(
    private readonly python: string,
    private readonly confinement: Confinement,
    readonly isolation: ProcessIsolation,
    private readonly workers: number,
    private readonly limits: ProgramLimits,
    pool: PoolLimits | undefined,
  ) {
    this.pool = new RunnerPool((workers) => this.startRunner(workers), pool);
  }

  /** Finds the interpreter and builds its confinement; refuses to run unconfined unless asked. */
  static async open(options: ProcessSandboxOptions = {}): Promise<ProcessSandbox> {
    const requested = await resolvePython(options.python ?? "python3");
    // As root, a Python that program uids can read (the system's, when the default one lives
    // under /root as pyenv's does) buys uids of their own; one given by name is kept.
    const forProgramUids =
      process.getuid?.() === 0 ? await firstRunnableByProgramUids(options.python ? [requested] : [requested, SYSTEM_PYTHON]) : undefined;
    const python = forProgramUids ?? requested;
    const unconfined = process.env[UNCONFINED_ENV] === "unconfined";
    const confinement: Confinement = unconfined
      ? { prefix: [], runner: runnerPath(), workRoot: null, programIpc: false, syscallFilter: false }
      : await bubblewrapConfinement(python);
    const isolation: ProcessIsolation = {
      confined: !unconfined,
      privateNetwork: !unconfined,
      privatePids: !unconfined,
      privateIpc: !unconfined,
      programIpc: confinement.programIpc,
      syscallFilter: confinement.syscallFilter,
      programUids: forProgramUids !== undefined,
      batchCgroup: await cgroupsWork(),
    };
    return new ProcessSandbox(
      python,
      confinement,
      isolation,
      options.workers ?? availableParallelism(),
      { ...DEFAULT_PROGRAM_LIMITS, ...options.limits },
      options.pool,
    );
  }

  async run(programs: Program[], options: RunOptions = {}): Promise<Verdict[]> {
    if (programs.length === 0 || options.signal?.aborted) return [];
    return this.pool.run(Math.max(1, options.workers ?? this.workers), programs, options);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** A confined runner process, waiting for programs on its stdin. */
  private async startRunner(workers: number): Promise<StartedRunner> {
    const { execa } = await import("execa");
    // Unconfined, programs work in a host directory of their own runner (sticky: none removes another's).
    const hostWorkRoot = this.confinement.workRoot === null ? await mkdtemp(path.join(tmpdir(), "koderz-sandbox-")) : undefined;
    if (hostWorkRoot && this.isolation.programUids) await chmod(hostWorkRoot, 0o1777);
    const config: RunnerConfig = {
      ...this.limits,
      workers,
      workRoot: this.confinement.workRoot ?? hostWorkRoot!,
      programUidBase: this.isolation.programUids ? PROGRAM_UID_BASE : null,
    };
    const cgroup = this.isolation.batchCgroup ? await makeRunnerCgroup(batchLimits(workers, this.limits)) : null;
    const joinCgroup = cgroup ? joinCgroupsPrefix(cgroup.procs) : [];
    const [command, ...args] = [...joinCgroup, ...this.confinement.prefix, this.python, "-I", "-B", this.confinement.runner, JSON.stringify(config)];
    const runner = execa(command!, args, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      // Programs see none of the caller's environment (API keys, tokens), only what Python needs.
      extendEnv: false,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
    });
    const pipes = [runner.stdin, runner.stdout, runner.stderr] as Array<{ ref?(): void; unref?(): void } | null>;
    return {
      channel: { stdin: runner.stdin, stdout: runner.stdout, diagnostics: keepTail(runner.stderr), kill: () => runner.kill("SIGKILL") },
      hold: (held) => {
        if (held) runner.ref();
        else runner.unref();
        for (const pipe of pipes) (held ? pipe?.ref : pipe?.unref)?.call(pipe);
      },
      stop: async () => {
        // bwrap's --die-with-parent takes the runner and every program with it.
        runner.kill("SIGKILL");
        await runner;
        await cgroup?.remove();
        if (hostWorkRoot) await rm(hostWorkRoot, { recursive: true, force: true });
      },
    };
  }
}

/**
 * bubblewrap's arguments for the runner: a root of Python, its standard library and numpy
 * (python-root.ts), read-only; fresh /proc, /dev and size-capped tmpfs for /tmp, /dev/shm and the
 * work root; its own network (loopback only), IPC, pid, UTS and mount namespaces; killed with
 * its parent; a session of its own (no terminal to inject keystrokes into); no new privileges.
 * As root no user namespace is made (program uids must be real uids), and every capability is
 * dropped but `capabilities` (RUNNER_CAPABILITIES, or fewer where the runner cannot filter its
 * programs' syscalls); as another user, those of RUNNER_CAPABILITIES_IN_USER_NAMESPACE are kept
 * in bubblewrap's user namespace. The runner is the namespace's first process, so a program can
 * signal it only with signals it handles, even under its uid.
 */
export function bubblewrapArgs(
  root: PythonRoot,
  runnerFile: string,
  asRoot: boolean,
  capabilities: readonly string[] = asRoot ? RUNNER_CAPABILITIES : RUNNER_CAPABILITIES_IN_USER_NAMESPACE,
): string[] {
  const keep = capabilities.flatMap((capability) => ["--cap-add", `CAP_${capability}`]);
  const sized = (bytes: number, mountPoint: string): string[] => ["--perms", "1777", "--size", String(bytes), "--tmpfs", mountPoint];
  return [
    // Not root: a user namespace, where the capabilities kept are over its own namespaces alone.
    ...(asRoot ? ["--cap-drop", "ALL", ...keep] : ["--unshare-user", "--disable-userns", "--cap-drop", "ALL", ...keep]),
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "koderz-sandbox",
    "--die-with-parent",
    "--new-session",
    "--as-pid-1",
    "--clearenv",
    "--setenv",
    "LANG",
    "C.UTF-8",
    "--setenv",
    "PATH",
    "/usr/bin:/bin",
    ...root.args,
    "--perms",
    "0755",
    "--dir",
    path.dirname(SANDBOX_RUNNER),
    "--ro-bind",
    runnerFile,
    SANDBOX_RUNNER,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    ...sized(TMPFS_BYTES.shm, "/dev/shm"),
    "--remount-ro",
    "/dev",
    ...sized(TMPFS_BYTES.tmp, "/tmp"),
    ...sized(TMPFS_BYTES.work, SANDBOX_WORK_ROOT),
    "--remount-ro",
    "/",
    "--chdir",
    "/",
    "--",
  ];
}

const BUBBLEWRAP = "bwrap";
/** Memory for the runner itself, on top of each worker's program budget (as in Docker). */
const RUNNER_MEMORY_BYTES = 256 * 1024 * 1024;

/** The batch's cgroup limits: the Docker sandbox's container limits, for the same workers. */
function batchLimits(workers: number, limits: ProgramLimits): RunnerCgroupLimits {
  return {
    memoryBytes: workers * limits.memoryBytes + RUNNER_MEMORY_BYTES,
    pids: 32 + (limits.maxProcesses + 8) * workers,
    cpus: Math.min(workers, availableParallelism()),
  };
}

let cgroupProbe: Promise<boolean> | undefined;

/** Whether a runner cgroup with every controller can be made here (made and removed once per process). */
function cgroupsWork(): Promise<boolean> {
  cgroupProbe ??= (async () => {
    const probe = await makeRunnerCgroup(batchLimits(1, DEFAULT_PROGRAM_LIMITS)).catch(() => null);
    await probe?.remove();
    return probe?.controllers.length === 3;
  })();
  return cgroupProbe;
}

const confinements = new Map<string, Promise<Confinement>>();

/** bubblewrap around `python`, checked once per process by importing numpy inside it. */
function bubblewrapConfinement(python: string): Promise<Confinement> {
  // By PATH too: it decides which bwrap runs.
  const key = `${python}\0${process.env.PATH ?? ""}`;
  let confinement = confinements.get(key);
  if (!confinement) {
    confinement = checkedConfinement(python);
    confinements.set(key, confinement);
    confinement.catch(() => confinements.delete(key));
  }
  return confinement;
}

async function checkedConfinement(python: string): Promise<Confinement> {
  const root = await pythonRoot(python);
  const asRoot = process.getuid?.() === 0;
  let capabilities: readonly string[] = asRoot ? RUNNER_CAPABILITIES : RUNNER_CAPABILITIES_IN_USER_NAMESPACE;
  let probe = await probeRunner(root, asRoot, capabilities);
  if (probe.exitCode === RUNNER_REFUSED_EXIT) {
    // No libseccomp here: without the filter CAP_SYS_ADMIN would be too much to hold, so the
    // runner goes without it, and programs without IPC namespaces of their own.
    capabilities = asRoot ? RUNNER_CAPABILITIES_UNFILTERED : [];
    probe = await probeRunner(root, asRoot, capabilities);
  }
  if (!probe.ready?.warm.includes("numpy")) {
    const why = probe.missing
      ? "bubblewrap (bwrap) is not installed"
      : probe.ready
        ? "numpy does not import in it"
        : `bubblewrap could not start Python in it: ${probe.stderr.trim().split("\n").pop() || `exit ${probe.exitCode}`}`;
    throw new KoderzError(
      "sandbox_unavailable",
      `the process sandbox cannot confine programs: ${why}`,
      `${probe.missing ? "install it (apt-get install -y bubblewrap)" : "as another user than root, bubblewrap needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"}, or use the Docker sandbox; ${UNCONFINED_ENV}=unconfined runs programs with rlimits alone, able to read your files (never for untrusted output)`,
    );
  }
  return {
    prefix: [BUBBLEWRAP, ...bubblewrapArgs(root, runnerPath(), asRoot, capabilities)],
    runner: SANDBOX_RUNNER,
    workRoot: SANDBOX_WORK_ROOT,
    programIpc: probe.ready.programIpc,
    syscallFilter: probe.ready.syscallFilter,
  };
}

/** How the runner exits when it holds CAP_SYS_ADMIN but cannot filter its programs' syscalls. */
const RUNNER_REFUSED_EXIT = 3;

/**
 * The runner itself, started in bubblewrap with no program to run: it imports numpy, probes
 * what it can give each program (an IPC namespace, the syscall filter), says so on its ready
 * line and ends.
 */
async function probeRunner(
  root: PythonRoot,
  asRoot: boolean,
  capabilities: readonly string[],
): Promise<{ ready: RunnerReady | null; exitCode: number | undefined; stderr: string; missing: boolean }> {
  const { execa } = await import("execa");
  const prefix = [BUBBLEWRAP, ...bubblewrapArgs(root, runnerPath(), asRoot, capabilities)];
  const config: RunnerConfig = { ...DEFAULT_PROGRAM_LIMITS, workers: 1, workRoot: SANDBOX_WORK_ROOT, programUidBase: asRoot ? PROGRAM_UID_BASE : null };
  const probe = await execa(prefix[0]!, [...prefix.slice(1), root.python, "-I", "-B", SANDBOX_RUNNER, JSON.stringify(config)], {
    reject: false,
    timeout: 60_000,
    input: "",
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const ready = String(probe.stdout ?? "")
    .split("\n")
    .map(parseRunnerLine)
    .find((message) => message?.kind === "ready");
  return {
    ready: ready?.kind === "ready" && probe.exitCode === 0 ? ready.ready : null,
    exitCode: probe.exitCode,
    stderr: String(probe.stderr ?? ""),
    missing: (probe as { code?: string }).code === "ENOENT",
  };
}

/** The interpreter's real path: a pyenv shim would need the caller's environment to work. */
async function resolvePython(python: string): Promise<string> {
  const { execa } = await import("execa");
  const probe = await execa(python, ["-c", "import sys; print(sys.executable)"], { reject: false });
  const executable = String(probe.stdout ?? "").trim();
  if (probe.exitCode !== 0 || !executable) {
    throw new KoderzError(
      "sandbox_unavailable",
      `the process sandbox needs ${python}, which did not run${probe.stderr ? `: ${String(probe.stderr).trim()}` : ""}`,
      "install Python 3 (apt-get install -y python3 python3-numpy), or use the Docker sandbox",
    );
  }
  return executable;
}

const SYSTEM_PYTHON = "/usr/bin/python3";

/** The first interpreter whose standard library a program uid can read (not so under /root). */
async function firstRunnableByProgramUids(pythons: string[]): Promise<string | undefined> {
  const { execa } = await import("execa");
  for (const python of pythons) {
    const probe = await execa(
      python,
      ["-c", `import os; os.setgroups([]); os.setgid(${PROGRAM_UID_BASE}); os.setuid(${PROGRAM_UID_BASE}); import email.parser`],
      { reject: false, timeout: 10_000 },
    );
    if (probe.exitCode === 0) return python;
  }
  return undefined;
}
