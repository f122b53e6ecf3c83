import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { KoderzError } from "../src/errors.js";
import { DockerSandbox } from "./docker-sandbox.js";
import { connectEngine, engineAddress, engineAnswers, inspectImage, SANDBOX_IMAGE } from "./engine.js";
import { buildDebianImage } from "./workspace-image.js";

export interface BuildSandboxImageOptions {
  /** Rebuild even when the image exists. */
  force?: boolean;
  docker?: Docker;
  image?: string;
  /** Registry image tried first; numpy is added with pip. */
  baseImage?: string;
  /** Debian mirror for the debootstrap path. */
  mirror?: string;
  onProgress?: (message: string) => void;
}

export interface SandboxImageBuild {
  image: string;
  how: "already built" | "registry" | "debootstrap";
  seconds: number;
}

const DEFAULT_BASE_IMAGE = "python:3.11-slim";
/** A registry that answers starts sending layers at once; one that does not should not hold us up. */
const PULL_TIMEOUT_MS = 5000;
const LABEL = "org.koderz.sandbox";
/** What the sandbox runs as, also the image's default user (the runner itself needs no root). */
const IMAGE_CHANGES = ["ENV LANG=C.UTF-8", "ENV PYTHONDONTWRITEBYTECODE=1", "USER 65534:65534", `LABEL ${LABEL}=python3-numpy`];

/**
 * Builds the image the Docker sandbox runs: Python 3 with numpy, default user nobody. The
 * runner is not baked in (it is passed at run time), so the image only changes with Python.
 * First from a registry base image; where no registry answers, from Debian packages
 * (debootstrap a minimal root file system, then docker import).
 */
export async function buildSandboxImage(options: BuildSandboxImageOptions = {}): Promise<SandboxImageBuild> {
  const started = performance.now();
  const say = options.onProgress ?? (() => undefined);
  const docker = options.docker ?? connectEngine();
  const image = options.image ?? SANDBOX_IMAGE;
  if (!(await engineAnswers(docker))) {
    throw new KoderzError(
      "sandbox_unavailable",
      `no Docker engine answered at ${engineAddress()}, so the sandbox image cannot be built`,
      "install and start Docker (apt-get install -y docker.io; nohup dockerd >/tmp/dockerd.log 2>&1 &)",
    );
  }
  const previous = await inspectImage(docker, image);
  if (previous && !options.force) {
    say(`${image} already exists (${previous.id.slice(7, 19)}); pass --force to rebuild it`);
    return { image, how: "already built", seconds: 0 };
  }

  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  say(`pulling ${baseImage}`);
  const pulled = await tryPull(docker, baseImage);
  const fromRegistry = pulled === true ? await buildFromBase(docker, baseImage, image, say) : `no registry image (${pulled})`;
  const how: SandboxImageBuild["how"] = fromRegistry === true ? "registry" : "debootstrap";
  if (fromRegistry !== true) {
    say(`${fromRegistry}; building from Debian packages instead`);
    await buildDebianImage({ name: image, packages: ["python3", "python3-numpy"], changes: IMAGE_CHANGES, mirror: options.mirror, onProgress: say });
  }

  say("checking the image: numpy in a sandbox container");
  await smokeTest(docker, image);
  const current = await inspectImage(docker, image);
  if (previous && current && previous.id !== current.id) {
    // The old image lost its name; drop it unless a container still uses it.
    await docker.getImage(previous.id).remove().catch(() => undefined);
  }
  const seconds = (performance.now() - started) / 1000;
  say(`${image} is ready (${how}, ${seconds.toFixed(0)} s)`);
  return { image, how, seconds };
}

/** true when pulled; else why not, in a few words. */
async function tryPull(docker: Docker, reference: string): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer from the registry in ${PULL_TIMEOUT_MS / 1000} s`), PULL_TIMEOUT_MS);
  });
  const pull = (async (): Promise<true | string> => {
    try {
      const stream = await docker.pull(reference);
      await followProgress(docker, stream);
      return true;
    } catch (error) {
      return firstLine(error);
    }
  })();
  try {
    return await Promise.race([pull, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** true when built; else why not (a registry may answer while PyPI does not). */
async function buildFromBase(docker: Docker, baseImage: string, image: string, say: (message: string) => void): Promise<true | string> {
  const context = await mkdtemp(path.join(tmpdir(), "koderz-image-"));
  try {
    const dockerfile = [`FROM ${baseImage}`, "RUN pip install --no-cache-dir numpy", ...IMAGE_CHANGES].join("\n") + "\n";
    await writeFile(path.join(context, "Dockerfile"), dockerfile);
    say(`building ${image} on ${baseImage} (pip install numpy)`);
    const stream = await docker.buildImage({ context, src: ["Dockerfile"] }, { t: image });
    await followProgress(docker, stream, (event) => {
      if (typeof event.stream === "string" && event.stream.trim()) say(event.stream.trim());
    });
    return true;
  } catch (error) {
    return `building on ${baseImage} failed (${firstLine(error)})`;
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}

interface ProgressEvent {
  stream?: unknown;
  error?: unknown;
}

/** Waits for a pull/build stream to end; an `error` event in it is a failure. */
function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onEvent?: (event: ProgressEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: ProgressEvent[]) => {
        const failed = events?.find((event) => event.error);
        if (error) reject(error);
        else if (failed) reject(new Error(String(failed.error)));
        else resolve();
      },
      onEvent,
    );
  });
}

async function smokeTest(docker: Docker, image: string): Promise<void> {
  const sandbox = new DockerSandbox({ docker, image, workers: 1 });
  try {
    const [verdict] = await sandbox.run([{ id: "smoke", source: "import numpy\nassert numpy.arange(4).sum() == 6\n", timeoutSeconds: 30 }]);
    if (!verdict?.passed) {
      throw new KoderzError("sandbox_unavailable", `the new image ${image} does not run Python with numpy: ${verdict?.result ?? "no verdict"}`, "rebuild it with `koderz sandbox build --force`");
    }
  } finally {
    await sandbox.close();
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim();
}
