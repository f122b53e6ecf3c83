import { availableParallelism } from "node:os";
import { PassThrough, type Duplex } from "node:stream";
import type Docker from "dockerode";
import { KoderzError } from "../src/errors.js";
import { connectEngine, SANDBOX_IMAGE, statusCode } from "./engine.js";
import { DEFAULT_PROGRAM_LIMITS, PROGRAM_UID_BASE, type ProgramLimits, type RunnerConfig } from "./runner-protocol.js";
import { ownerLabels, removeOrphans } from "./container-owner.js";
import { RunnerPool, type PoolLimits, type StartedRunner } from "./runner-pool.js";
import { keepTail } from "./runner-session.js";
import { RUNNER_CAPABILITIES } from "./runner-privileges.js";
import { runnerSource } from "./runner-source.js";
import type { Program, RunOptions, Sandbox, Verdict } from "./sandbox.js";

export interface DockerSandboxOptions {
  docker?: Docker;
  image?: string;
  /** Default for RunOptions.workers: the host's cores. */
  workers?: number;
  limits?: Partial<ProgramLimits>;
  /** Warm containers kept across batches (default: defaultPoolLimits()). */
  pool?: PoolLimits;
}

/**
 * The runner starts as the container's root, holding only the capabilities it needs to hand
 * each program a uid of its own (PROGRAM_UID_BASE + slot); programs never run as root.
 */
const RUNNER_USER = "0:0";
const WORK_DIR = "/work";
export const BATCH_LABEL = "org.koderz.sandbox";
export const OWNER_LABEL = "org.koderz.sandbox.owner";
/** /dev/shm, as the process sandbox's. */
const SHM_BYTES = 16 * 1024 * 1024;
/** Memory for the runner itself, on top of each worker's program budget. */
const RUNNER_MEMORY_BYTES = 256 * 1024 * 1024;

/**
 * Runs batches in containers: no network, read-only root, tmpfs work dirs, memory, pids and CPU
 * caps, no capabilities but RUNNER_CAPABILITIES (see there), no privilege gain, every program
 * under a uid of its own slot, in an IPC namespace of its own and behind the runner's syscall
 * filter (under Docker's seccomp profile too), judged by a thread it cannot reach. No cgroup per
 * program: on cgroup v1 a container shares the host's cgroup namespace, so the container's
 * cgroup (memory, pids, CPU below) holds the batch, and per-program rlimits each program.
 * Inside, sandbox/runner.py (passed with `python3 -c`, so the image needs nothing of ours) forks
 * one candidate per program. Containers
 * stay warm across batches (RunnerPool), so container start-up is paid once, not per batch.
 * A container is removed when a batch is aborted or fails, when it idles too long, and at
 * close(); if this process dies, the runner sees its stdin close and the engine auto-removes
 * the container, and the next start removes what a crash left (owner labels).
 */
export class DockerSandbox implements Sandbox {
  readonly name = "docker" as const;
  private readonly docker: Docker;
  private readonly image: string;
  private readonly workers: number;
  private readonly limits: ProgramLimits;
  private readonly pool: RunnerPool;
  private orphansReaped: Promise<string[]> | undefined;

  constructor(options: DockerSandboxOptions = {}) {
    this.docker = options.docker ?? connectEngine();
    this.image = options.image ?? SANDBOX_IMAGE;
    this.workers = options.workers ?? availableParallelism();
    this.limits = { ...DEFAULT_PROGRAM_LIMITS, ...options.limits };
    this.pool = new RunnerPool((workers) => this.startRunner(workers), options.pool);
  }

  async run(programs: Program[], options: RunOptions = {}): Promise<Verdict[]> {
    if (programs.length === 0 || options.signal?.aborted) return [];
    this.orphansReaped ??= removeOrphans(this.docker, `${BATCH_LABEL}=batch`).catch(() => []);
    await this.orphansReaped;
    return this.pool.run(Math.max(1, options.workers ?? this.workers), programs, options);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** A container whose runner waits for programs, attached to our end of its stdin and stdout. */
  private async startRunner(workers: number): Promise<StartedRunner> {
    const container = await this.createContainer(workers);
    try {
      const stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      container.modem.demuxStream(stream, stdout, stderr);
      stream.on("end", () => {
        stdout.end();
        stderr.end();
      });
      stream.on("error", (error: Error) => stdout.destroy(error));
      const diagnostics = keepTail(stderr);
      await container.start();
      const socket = stream as Duplex & { ref?(): void; unref?(): void };
      return {
        channel: { stdin: stream, stdout, diagnostics, kill: () => void container.kill().catch(() => undefined) },
        hold: (held) => (held ? socket.ref?.() : socket.unref?.()),
        stop: () => removeContainer(container),
      };
    } catch (error) {
      await removeContainer(container).catch(() => undefined);
      throw error;
    }
  }

  private async createContainer(workers: number): Promise<Docker.Container> {
    const config: RunnerConfig = { ...this.limits, workers, workRoot: WORK_DIR, programUidBase: PROGRAM_UID_BASE };
    const memory = workers * this.limits.memoryBytes + RUNNER_MEMORY_BYTES;
    const cpus = Math.min(workers, availableParallelism());
    try {
      return await this.docker.createContainer({
        Image: this.image,
        // -I: no PYTHON* variables, no user site, no script dir on sys.path.
        Cmd: ["python3", "-I", "-c", runnerSource(), JSON.stringify(config)],
        User: RUNNER_USER,
        Env: ["LANG=C.UTF-8"],
        // No WorkingDir: setting it to the tmpfs makes Docker remount it root-owned, mode 755.
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        OpenStdin: true,
        StdinOnce: true,
        Tty: false,
        NetworkDisabled: true,
        // The owner's pid tells which process a leftover container belonged to.
        Labels: { [BATCH_LABEL]: "batch", [OWNER_LABEL]: String(process.pid), ...ownerLabels() },
        HostConfig: {
          AutoRemove: true,
          NetworkMode: "none",
          ReadonlyRootfs: true,
          Tmpfs: {
            [WORK_DIR]: "rw,noexec,nosuid,nodev,size=64m,mode=1777",
            "/tmp": "rw,noexec,nosuid,nodev,size=16m,mode=1777",
          },
          // SysV IPC objects and POSIX queues are the container's alone and die with it; /dev/shm
          // is the container's own, capped like /tmp.
          IpcMode: "private",
          ShmSize: SHM_BYTES,
          // The container's cgroup (memory, pids, CPU below) holds the runner and every program:
          // the engine kills it as a whole when the container is removed.
          Memory: memory,
          MemorySwap: memory,
          // Each slot's uid is held to maxProcesses (RLIMIT_NPROC), so a fork bomb in one
          // slot leaves room for the runner, its judge threads and the other slots.
          PidsLimit: 32 + (this.limits.maxProcesses + 8) * workers,
          NanoCpus: cpus * 1e9,
          CapDrop: ["ALL"],
          CapAdd: [...RUNNER_CAPABILITIES],
          SecurityOpt: ["no-new-privileges"],
        },
      });
    } catch (error) {
      if (statusCode(error) === 404) {
        throw new KoderzError(
          "sandbox_unavailable",
          `the Docker image ${this.image} does not exist`,
          "build it with `koderz sandbox build`",
        );
      }
      throw new KoderzError("sandbox_unavailable", `could not create a sandbox container: ${messageOf(error)}`);
    }
  }
}

/** Removes the container and returns once it is gone. */
async function removeContainer(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true });
  } catch (error) {
    const code = statusCode(error);
    if (code === 404) return; // auto-removal was faster
    if (code !== 409) throw error;
    // Auto-removal is under way: wait for its end, so that "removed" means gone.
    await container.wait({ condition: "removed" }).catch(() => undefined);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
