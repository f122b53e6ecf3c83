import type Docker from "dockerode";
import { KoderzError } from "../src/errors.js";
import { DockerSandbox } from "./docker-sandbox.js";
import { connectEngine, engineAddress, engineAnswers, inspectImage, SANDBOX_IMAGE } from "./engine.js";
import { ProcessSandbox, UNCONFINED_ENV, type ProcessIsolation } from "./process-sandbox.js";
import type { ProgramLimits } from "./runner-protocol.js";
import type { Sandbox, SandboxName } from "./sandbox.js";

export interface OpenSandboxOptions {
  /** Where warnings go (the process sandbox's weaker isolation); default: stderr. */
  onNotice?: (message: string) => void;
  /** Programs run at once; default: the host's cores. */
  workers?: number;
  limits?: Partial<ProgramLimits>;
  /** For tests and tools: another engine client or image. */
  docker?: Docker;
  image?: string;
}

/**
 * The sandbox to run programs in. Without a name: Docker when an engine answers, else the
 * process sandbox with a loud warning. "docker" never falls back; "process" never asks Docker.
 */
export async function openSandbox(name?: SandboxName, options: OpenSandboxOptions = {}): Promise<Sandbox> {
  const notice = options.onNotice ?? ((message: string) => void process.stderr.write(`${message}\n`));
  if (name === "process") return openProcessSandbox(options, notice, "you chose --sandbox process");

  const docker = options.docker ?? connectEngine();
  const image = options.image ?? SANDBOX_IMAGE;
  if (await engineAnswers(docker)) {
    if (!(await inspectImage(docker, image))) {
      throw new KoderzError(
        "sandbox_unavailable",
        `the Docker engine answers, but the sandbox image ${image} does not exist`,
        "build it once with `koderz sandbox build` (a minute or two)",
      );
    }
    return new DockerSandbox({ docker, image, workers: options.workers, limits: options.limits });
  }
  if (name === "docker") {
    throw new KoderzError(
      "sandbox_unavailable",
      `no Docker engine answered at ${engineAddress()}`,
      "start it (`systemctl start docker`, or `nohup dockerd >/tmp/dockerd.log 2>&1 &` as root), or pass --sandbox process for weaker, local isolation",
    );
  }
  return openProcessSandbox(options, notice, `no Docker engine answered at ${engineAddress()}`);
}

async function openProcessSandbox(options: OpenSandboxOptions, notice: (message: string) => void, why: string): Promise<Sandbox> {
  const sandbox = await ProcessSandbox.open({ workers: options.workers, limits: options.limits });
  notice(weakerIsolationWarning(why, sandbox.isolation));
  return sandbox;
}

/**
 * The process sandbox's startup line: what it fences and, plainly, what it does not. Confined by
 * bubblewrap, programs see no host file and no network either way; what depends on root is
 * whether each program gets a uid of its own.
 */
export function weakerIsolationWarning(why: string, isolation: ProcessIsolation): string {
  const fences = [
    "per-program time, memory, file-size and process limits",
    isolation.confined ? "a root filesystem of Python, its standard library and numpy alone (no file, dataset or socket of this machine)" : "",
    isolation.privateNetwork ? "no network" : "",
    isolation.privatePids ? "no sight of this machine's processes" : "",
    isolation.programIpc ? "an IPC namespace each (SysV objects unseen by other programs, dying with the program)" : isolation.privateIpc ? "IPC objects that die with the sandbox" : "",
    isolation.syscallFilter ? "a syscall filter (no namespaces, mounts, BPF, keyrings or io_uring)" : "",
    isolation.programUids ? "a uid of their own, out of reach of their judge and of each other" : "",
    isolation.batchCgroup ? "a cgroup for the batch with memory, pids and CPU limits" : "",
  ].filter(Boolean);
  const gaps = isolation.confined
    ? [
        `share this machine's kernel (${isolation.syscallFilter ? "behind a syscall filter, not Docker's profile" : "no seccomp filter"}${isolation.batchCgroup ? "; one cgroup for the batch, none per program" : "; no cgroup: memory and CPU are held by per-program rlimits alone"})`,
        isolation.programIpc
          ? ""
          : `share one IPC namespace per batch (a program's SysV objects are seen by the programs beside it${isolation.programUids ? ", and removed after it" : " and after it, until the batch ends"})`,
        isolation.programUids
          ? ""
          : "run under the runner's uid, as koderz does not run as root: a program can end the runner's helpers (failing, never passing, the programs of its batch), see the programs beside it, and leave processes or files for the next program of its slot",
      ]
    : [
        `are NOT confined (${UNCONFINED_ENV}=unconfined): they can read ${isolation.programUids ? "every world-readable file" : "your files"}, datasets and hidden tests, write ${isolation.programUids ? "world-writable places" : "what you can write"}, and reach the network`,
        isolation.programUids ? "" : "run as you, so they could kill the runner (failing the batch) or escape their process group",
      ];
  return [
    "WARNING: untrusted code runs in the PROCESS sandbox: isolation is weaker than Docker.",
    `  why: ${why}`,
    `  programs get: ${fences.join(", ")}`,
    `  but programs ${gaps.filter(Boolean).join("; and ")}.`,
    "  for full isolation start Docker and run `koderz sandbox build` (check with `koderz sandbox status`).",
  ].join("\n");
}
