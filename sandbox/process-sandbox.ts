import { chmod, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
import { DEFAULT_PROGRAM_LIMITS, PROGRAM_UID_BASE, type ProgramLimits, type RunnerConfig } from "./runner-protocol.js";
import { RunnerPool, type PoolLimits, type StartedRunner } from "./runner-pool.js";
import { keepTail } from "./runner-session.js";
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

/** What fences the process sandbox could put up on this machine, for the user's warning. */
export interface ProcessIsolation {
  /** Programs have no network (a private network namespace). */
  privateNetwork: boolean;
  /** Programs cannot outlive the batch nor signal host processes (a private pid namespace). */
  privatePids: boolean;
  /** The host's files are read-only to programs, mounts stay private, capabilities are dropped. */
  readOnlyHost: boolean;
  /**
   * Each program runs under a uid of its own slot rather than as the caller (when root runs
   * koderz and such a uid can read Python): it cannot reach its judge, the runner or another
   * program, and all its processes and files are removed after it.
   */
  programUids: boolean;
}

/**
 * One way to start the runner, from the strongest to none: the command prefix for a batch
 * whose programs work under `workRoot`.
 */
interface Confinement {
  isolation: Omit<ProcessIsolation, "programUids">;
  prefix(workRoot: string): string[];
}

/**
 * Run inside fresh mount, network and pid namespaces: every mount becomes read-only (in this
 * namespace only), a fresh tmpfs becomes the work root, /proc shows this namespace only, and
 * all capabilities go but those the
 * runner needs to hand programs to nobody. A program running as root then cannot write the
 * host's files, mount over them, or regain the capabilities.
 */
const LOCKDOWN_SCRIPT = `set -e
work="$1"; shift
while read -r _ _ _ _ point _; do
  mount -o remount,bind,ro "$point" 2>/dev/null || true
done < /proc/self/mountinfo
mount -t tmpfs -o size=64m,mode=1777,nosuid,nodev koderz-work "$work"
# Our own /proc: programs see the processes of this namespace only, not the host's.
mount -t proc -o nosuid,nodev,noexec proc /proc
exec setpriv --bounding-set=-all,+setuid,+setgid --inh-caps=-all --no-new-privs -- "$@"`;

function confinements(): Confinement[] {
  const asUser = process.getuid?.() === 0 ? [] : ["--user", "--map-root-user"];
  const namespaces = ["unshare", ...asUser, "--mount", "--net", "--pid", "--fork", "--kill-child"];
  return [
    {
      isolation: { privateNetwork: true, privatePids: true, readOnlyHost: true },
      prefix: (workRoot) => [...namespaces, "sh", "-c", LOCKDOWN_SCRIPT, "koderz-lockdown", workRoot],
    },
    { isolation: { privateNetwork: true, privatePids: true, readOnlyHost: false }, prefix: () => namespaces },
    { isolation: { privateNetwork: true, privatePids: false, readOnlyHost: false }, prefix: () => ["unshare", ...asUser, "--net"] },
    { isolation: { privateNetwork: false, privatePids: false, readOnlyHost: false }, prefix: () => [] },
  ];
}


/**
 * Runs the batch with the local python3 and the same runner as the Docker sandbox: rlimits per
 * program and, as far as this machine allows, private mount, network and pid namespaces with
 * the host's files read-only (see LOCKDOWN_SCRIPT). Weaker than Docker all the same: programs
 * share the host's kernel view, can read its files, and without namespaces write them too.
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

  /** Finds the interpreter and probes the strongest confinement this machine allows. */
  static async open(options: ProcessSandboxOptions = {}): Promise<ProcessSandbox> {
    const requested = await resolvePython(options.python ?? "python3");
    // As root, a Python that program uids can read (the system's, when the default one lives
    // under /root as pyenv's does) buys the strongest fences; one given by name is kept.
    const forProgramUids =
      process.getuid?.() === 0 ? await firstRunnableByProgramUids(options.python ? [requested] : [requested, SYSTEM_PYTHON]) : undefined;
    const python = forProgramUids ?? requested;
    const confinement = await strongestConfinement(python);
    const isolation: ProcessIsolation = { ...confinement.isolation, programUids: forProgramUids !== undefined };
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

  /** A confined runner process with a work root of its own, waiting for programs. */
  private async startRunner(workers: number): Promise<StartedRunner> {
    const { execa } = await import("execa");
    const workRoot = await mkdtemp(path.join(tmpdir(), "koderz-sandbox-"));
    // Programs under their own uids make their own directories in it (sticky: none removes another's).
    if (this.isolation.programUids) await chmod(workRoot, 0o1777);
    const config: RunnerConfig = {
      ...this.limits,
      workers,
      workRoot,
      programUidBase: this.isolation.programUids ? PROGRAM_UID_BASE : null,
    };
    const [command, ...args] = [...this.confinement.prefix(workRoot), this.python, runnerPath(), JSON.stringify(config)];
    const runner = execa(command!, args, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      // Programs see none of the caller's environment (API keys, tokens), only what Python needs.
      extendEnv: false,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", PYTHONDONTWRITEBYTECODE: "1" },
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
        runner.kill("SIGKILL");
        await runner;
        await rm(workRoot, { recursive: true, force: true });
      },
    };
  }
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

/** The first confinement under which Python starts here: namespaces and setpriv may be missing or refused. */
async function strongestConfinement(python: string): Promise<Confinement> {
  const { execa } = await import("execa");
  const all = confinements();
  const probeRoot = await mkdtemp(path.join(tmpdir(), "koderz-sandbox-probe-"));
  try {
    for (const confinement of all) {
      const [command, ...args] = [...confinement.prefix(probeRoot), python, "-c", "pass"];
      if (!command) return confinement;
      const probe = await execa(command, args, { reject: false, timeout: 10_000 });
      if (probe.exitCode === 0) return confinement;
    }
  } finally {
    await rm(probeRoot, { recursive: true, force: true });
  }
  return all[all.length - 1]!;
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
