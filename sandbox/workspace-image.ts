import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { KoderzError } from "../src/errors.js";
import { connectEngine, statusCode } from "./engine.js";
import { WORKSPACE_IMAGE } from "./image-names.js";

// execa is imported where a process is started: most commands start none, and it is some 100 files to load.

export { WORKSPACE_IMAGE };

/**
 * `koderz solve`'s image (WORKSPACE_IMAGE): a Debian root file system with what the common test
 * runners need (pytest, node's test runner and npm, git for diffs). Built from Debian packages
 * with debootstrap, because no container registry is assumed to be reachable.
 *
 * The debootstrap + import steps are written as one function that takes a package list
 * (`buildDebianImage`), so the sandbox image build can share it when the two are merged.
 */
export const WORKSPACE_PACKAGES = ["python3", "python3-pytest", "git", "nodejs", "ca-certificates"] as const;
/** npm's dependencies include virtual packages debootstrap's resolver cannot follow; apt installs it afterwards. */
export const WORKSPACE_APT_PACKAGES = ["npm"] as const;

const DEFAULT_MIRROR = "http://deb.debian.org/debian";
const SUITE = "bookworm";

export interface DebianImageSpec {
  /** Image name, e.g. "koderz-workspace". */
  name: string;
  /** Installed by debootstrap itself. */
  packages: readonly string[];
  /** Installed afterwards by apt-get inside the new root (dependencies debootstrap cannot resolve). */
  aptPackages?: readonly string[];
  /** Dockerfile instructions applied on import, e.g. "WORKDIR /workspace". */
  changes?: readonly string[];
  mirror?: string;
  onProgress?: (message: string) => void;
  /**
   * Fills the root file system instead of debootstrap and apt (a test's tiny image). The content
   * key is still the spec's, so a test can show what a second build of the same spec does.
   */
  fillRootfs?: (rootfs: string) => Promise<void>;
  /** Stops the build: the child processes are killed and the root file system removed. */
  signal?: AbortSignal;
}

export interface BuiltImage {
  name: string;
  seconds: number;
  /** False when the image was already built from the same content and was kept. */
  built: boolean;
  /** The content key the image carries (its koderz.content label). */
  contentKey: string;
}

/** The image label that says what an image was built from. */
export const CONTENT_LABEL = "koderz.content";
const ROOTFS_PREFIX = "koderz-rootfs-";

/** What the workspace image is built from: its packages, suite and settings (not the mirror, which changes nothing inside). */
export function workspaceImageSpec(options: { name?: string; mirror?: string; onProgress?: (message: string) => void; signal?: AbortSignal } = {}): DebianImageSpec {
  return {
    name: options.name ?? WORKSPACE_IMAGE,
    packages: WORKSPACE_PACKAGES,
    aptPackages: WORKSPACE_APT_PACKAGES,
    changes: [
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "ENV LANG=C.UTF-8",
      // Test runs must not litter the diff with bytecode, nor wait on npm's update check.
      "ENV PYTHONDONTWRITEBYTECODE=1",
      "ENV NPM_CONFIG_UPDATE_NOTIFIER=false",
      "WORKDIR /workspace",
    ],
    mirror: options.mirror,
    onProgress: options.onProgress,
    signal: options.signal,
  };
}

/** The hash of what goes into the image: the same spec always gives the same key. */
export function contentKey(spec: Pick<DebianImageSpec, "packages" | "aptPackages" | "changes">): string {
  const content = JSON.stringify({ suite: SUITE, variant: "minbase", packages: [...spec.packages], aptPackages: [...(spec.aptPackages ?? [])], changes: [...(spec.changes ?? [])] });
  return createHash("sha256").update(content).digest("hex").slice(0, 16);
}

/** Builds the solve workspace image unless the image of that name was built from the same content (force: always). About 3-4 minutes when it builds. */
export function buildWorkspaceImage(options: { name?: string; mirror?: string; force?: boolean; onProgress?: (message: string) => void; signal?: AbortSignal } = {}): Promise<BuiltImage> {
  return ensureDebianImage(workspaceImageSpec(options), { force: options.force });
}

/** The image's content key; null when it has none (built before keys, or elsewhere); undefined when there is no such image. */
export async function imageContentKey(docker: Docker, name: string): Promise<string | null | undefined> {
  try {
    const info = await docker.getImage(name).inspect();
    return info.Config?.Labels?.[CONTENT_LABEL] ?? null;
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}

export interface WorkspaceImageState {
  image: string;
  present: boolean;
  /** Built from the content this koderz would build: --build-image would keep it. */
  upToDate: boolean;
  contentKey: string | null;
  wantedContentKey: string;
}

/** What `koderz sandbox status` says of the workspace image. */
export async function workspaceImageState(docker: Docker, name = WORKSPACE_IMAGE): Promise<WorkspaceImageState> {
  const wanted = contentKey(workspaceImageSpec());
  const key = await imageContentKey(docker, name);
  return { image: name, present: key !== undefined, upToDate: key === wanted, contentKey: key ?? null, wantedContentKey: wanted };
}

/**
 * Builds the image unless one of that name already carries the spec's content key: a second
 * `--build-image` costs an inspect, not three minutes.
 */
export async function ensureDebianImage(spec: DebianImageSpec, options: { force?: boolean; docker?: Docker } = {}): Promise<BuiltImage> {
  const key = contentKey(spec);
  const docker = options.docker ?? connectEngine();
  if (!options.force && (await imageContentKey(docker, spec.name)) === key) {
    spec.onProgress?.(`${spec.name} is up to date (content ${key}): not rebuilt (koderz sandbox build --workspace --force rebuilds it)`);
    return { name: spec.name, seconds: 0, built: false, contentKey: key };
  }
  return buildDebianImage(spec);
}

/**
 * debootstrap --variant=minbase with the packages, then `docker import` of the root file system,
 * labelled with its content key. Ctrl-C or SIGTERM during the build stops its children and
 * removes the root file system; one left by a build killed with -9 is removed by the next build.
 */
export async function buildDebianImage(spec: DebianImageSpec): Promise<BuiltImage> {
  const { execa } = await import("execa");
  const started = performance.now();
  const say = spec.onProgress ?? (() => undefined);
  const key = contentKey(spec);
  if (!spec.fillRootfs) {
    await requireTool("debootstrap", "apt-get install -y debootstrap");
    if (process.getuid?.() !== 0) {
      throw new KoderzError("sandbox_unavailable", `building ${spec.name} with debootstrap needs root`, `run the build as root (sudo), or build ${spec.name} elsewhere and load it with docker load`);
    }
  }
  await requireTool("docker", "apt-get install -y docker.io, and start the engine (dockerd &)");
  const stale = await removeStaleRootfs();
  if (stale.length) say(`removed ${stale.length} root file system${stale.length === 1 ? "" : "s"} left by a build that was killed (${stale.join(", ")})`);
  // The owner's pid is in the name, so a later build knows what a killed one left.
  const rootfs = await mkdtemp(path.join(tmpdir(), `${ROOTFS_PREFIX}${process.pid}-`));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const signal = spec.signal ? AbortSignal.any([spec.signal, stop.signal]) : stop.signal;
  try {
    if (spec.fillRootfs) {
      await abortable(spec.fillRootfs(rootfs), signal);
    } else {
      say(`debootstrap ${SUITE} with ${spec.packages.join(", ")}`);
      const bootstrap = await execa("debootstrap", ["--variant=minbase", `--include=${spec.packages.join(",")}`, SUITE, rootfs, spec.mirror ?? DEFAULT_MIRROR], { reject: false, all: true, cancelSignal: signal });
      if (signal.aborted) throw interrupted(spec.name);
      if (bootstrap.exitCode !== 0) {
        throw new KoderzError(
          "sandbox_unavailable",
          `debootstrap failed (exit ${bootstrap.exitCode}): ${lastLines(String(bootstrap.all ?? ""), 5)}`,
          "check that the Debian mirror is reachable (or pass another mirror) and that there is disk space",
        );
      }
      if (spec.aptPackages?.length) await aptInstall(rootfs, spec.aptPackages, say, signal);
      // Package caches are a third of the size and of no use in a container that never installs.
      await rm(path.join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
      await rm(path.join(rootfs, "var/lib/apt/lists"), { recursive: true, force: true });
    }
    say(`importing ${spec.name}`);
    const changes = [...(spec.changes ?? []), `LABEL ${CONTENT_LABEL}=${key}`].flatMap((change) => ["--change", change]);
    // Streamed: the root file system is hundreds of megabytes and must not be buffered.
    const imported = await execa("tar", ["-C", rootfs, "-c", "."], { buffer: false, cancelSignal: signal }).pipe("docker", ["import", ...changes, "-", spec.name], { reject: false, all: true, cancelSignal: signal });
    if (signal.aborted) throw interrupted(spec.name);
    if (imported.exitCode !== 0) {
      throw new KoderzError("sandbox_unavailable", `docker import of ${spec.name} failed: ${lastLines(String(imported.all ?? ""), 5)}`, "check that the Docker engine answers (docker info)");
    }
    const seconds = (performance.now() - started) / 1000;
    say(`built ${spec.name} in ${seconds.toFixed(0)} s (content ${key})`);
    return { name: spec.name, seconds, built: true, contentKey: key };
  } catch (error) {
    if (signal.aborted) throw interrupted(spec.name);
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await removeRootfs(rootfs);
  }
}

function interrupted(name: string): KoderzError {
  return new KoderzError("interrupted", `the build of ${name} was stopped; its temporary root file system was removed`, "run the build again");
}

/** Resolves as the work does, or rejects as soon as the signal fires. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Removes a root file system: first whatever a killed chroot left mounted inside it (proc, sys,
 * dev: rm must never walk into those), deepest first, then the files.
 */
export async function removeRootfs(rootfs: string): Promise<void> {
  const { execa } = await import("execa");
  const mounts = (await readFile("/proc/mounts", "utf8").catch(() => ""))
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((point): point is string => point !== undefined && (point === rootfs || point.startsWith(`${rootfs}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await execa("umount", ["-l", point], { reject: false });
  await rm(rootfs, { recursive: true, force: true, maxRetries: 3 });
}

/** Root file systems of builds whose process is gone (killed with -9): removed; their names are returned. */
export async function removeStaleRootfs(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = /^koderz-rootfs-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await removeRootfs(path.join(dir, name));
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function aptInstall(rootfs: string, packages: readonly string[], say: (message: string) => void, signal: AbortSignal): Promise<void> {
  const { execa } = await import("execa");
  say(`apt-get install ${packages.join(", ")}`);
  const resolvConf = path.join(rootfs, "etc/resolv.conf");
  await copyFile("/etc/resolv.conf", resolvConf);
  try {
    const script = `apt-get update -q && apt-get install -y -q --no-install-recommends ${packages.join(" ")} && apt-get clean`;
    const installed = await execa("chroot", [rootfs, "sh", "-c", script], { reject: false, all: true, env: { DEBIAN_FRONTEND: "noninteractive" }, cancelSignal: signal });
    if (signal.aborted) throw interrupted(path.basename(rootfs));
    if (installed.exitCode !== 0) {
      throw new KoderzError("sandbox_unavailable", `apt-get install ${packages.join(" ")} failed (exit ${installed.exitCode}): ${lastLines(String(installed.all ?? ""), 5)}`, "check that the Debian mirror is reachable and that there is disk space");
    }
  } finally {
    // The image must not carry this machine's resolver settings.
    await writeFile(resolvConf, "");
  }
}

async function requireTool(command: string, install: string): Promise<void> {
  const { execa } = await import("execa");
  const found = await execa("sh", ["-c", `command -v ${command}`], { reject: false });
  if (found.exitCode !== 0) throw new KoderzError("sandbox_unavailable", `${command} is not installed`, install);
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}
