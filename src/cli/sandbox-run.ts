import { connectEngine, engineAddress, engineAnswers, engineCgroupVersion, inspectImage, SANDBOX_IMAGE } from "../../sandbox/engine.js";
import { buildSandboxImage } from "../../sandbox/image.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE, workspaceImageState, type WorkspaceImageState } from "../../sandbox/workspace-image.js";
import { ProcessSandbox, type ProcessIsolation } from "../../sandbox/process-sandbox.js";
import { isKoderzError } from "../errors.js";
import { SCHEMA_VERSION } from "../json-contract.js";

/** `koderz sandbox build` once its flags are checked. */
export async function buildImages(options: { force: boolean; workspace: boolean }): Promise<void> {
  const log = (message: string) => process.stderr.write(`sandbox build: ${message}\n`);
  const built = await buildSandboxImage({ force: options.force, onProgress: log });
  process.stdout.write(`${built.image}\n`);
  if (!options.workspace) return;
  // Kept when built from the same content already (--force rebuilds it).
  await buildWorkspaceImage({ force: options.force, onProgress: log });
  process.stdout.write(`${WORKSPACE_IMAGE}\n`);
}

/** `koderz sandbox status`: exit 1 when the Docker sandbox is not ready. */
export async function printStatus(options: { json: boolean }): Promise<void> {
  const status = await sandboxStatus();
  if (options.json) process.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...status }, null, 2)}\n`);
  else process.stdout.write(describeStatus(status));
  if (!status.docker.ready) process.exitCode = 1;
}

interface SandboxStatus {
  docker: {
    engine: string;
    answers: boolean;
    image: string;
    imageId: string | null;
    imageCreated: string | null;
    ready: boolean;
    /** The engine's cgroup version (null: unknown); either way the container's cgroup holds the batch, no cgroup holds one program. */
    cgroupVersion: 1 | 2 | null;
  };
  /** `koderz solve`'s image: there, and built from the content this koderz would build (null: the engine does not answer). */
  workspace: WorkspaceImageState | null;
  process: { available: boolean; problem: string | null } & ProcessIsolation;
}

async function sandboxStatus(): Promise<SandboxStatus> {
  const docker = connectEngine();
  const answers = await engineAnswers(docker);
  const image = answers ? await inspectImage(docker, SANDBOX_IMAGE) : null;
  const cgroupVersion = answers ? await engineCgroupVersion(docker) : null;
  const workspace = answers ? await workspaceImageState(docker) : null;
  const processSide = await ProcessSandbox.open().then(
    (sandbox) => ({ available: true, problem: null, ...sandbox.isolation }),
    (error: unknown) => {
      if (!isKoderzError(error)) throw error;
      return { available: false, problem: error.message, confined: false, privateNetwork: false, privatePids: false, privateIpc: false, programIpc: false, syscallFilter: false, programUids: false, batchCgroup: false };
    },
  );
  return {
    docker: {
      engine: engineAddress(),
      answers,
      image: SANDBOX_IMAGE,
      imageId: image?.id ?? null,
      imageCreated: image?.created ?? null,
      ready: answers && image !== null,
      cgroupVersion,
    },
    workspace,
    process: processSide,
  };
}

function describeStatus(status: SandboxStatus): string {
  const { docker } = status;
  const lines = [
    `docker engine (${docker.engine}): ${docker.answers ? "answers" : "does not answer"}`,
    `image ${docker.image}: ${docker.imageId ? `present (${docker.imageId.slice(7, 19)}, built ${docker.imageCreated})` : docker.answers ? "missing" : "unknown"}`,
    `docker sandbox: ${docker.ready ? "ready (the default)" : "not ready"}`,
  ];
  if (docker.ready) {
    lines.push(
      `  each program: a uid of its own, its own IPC namespace, a syscall filter; memory, pids and CPU held for the batch by the container's cgroup${docker.cgroupVersion ? ` (cgroup v${docker.cgroupVersion})` : ""} and per program by rlimits, no cgroup per program`,
    );
  }
  if (!docker.answers) lines.push("  fix: start the engine (systemctl start docker, or nohup dockerd >/tmp/dockerd.log 2>&1 &)");
  else if (!docker.imageId) lines.push("  fix: koderz sandbox build");
  const workspace = status.workspace;
  if (workspace) {
    const state = !workspace.present ? "missing (koderz solve needs it: koderz sandbox build --workspace)" : workspace.upToDate ? `present, up to date (content ${workspace.contentKey})` : `present, built from other content (${workspace.contentKey ?? "unlabelled"}, this koderz builds ${workspace.wantedContentKey}): koderz sandbox build --workspace rebuilds it`;
    lines.push(`workspace image ${workspace.image}: ${state}`);
  }
  const side = status.process;
  if (side.available) {
    const fences = [
      side.confined && "bubblewrap: a root of Python and numpy alone",
      side.privateNetwork && "no network",
      side.privatePids && "private pids",
      side.privateIpc && "private IPC",
      side.programIpc && "an IPC namespace per program",
      side.syscallFilter && "a syscall filter per program",
      side.batchCgroup && "a cgroup per batch",
      side.programUids && "programs under uids of their own",
    ].filter(Boolean);
    lines.push(`process sandbox: available, weaker isolation (rlimits${fences.length ? `, ${fences.join(", ")}` : ""})`);
  } else {
    lines.push(`process sandbox: unavailable (${side.problem})`);
  }
  return lines.join("\n") + "\n";
}
