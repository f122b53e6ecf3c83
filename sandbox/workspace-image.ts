import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
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
}

export interface BuiltImage {
  name: string;
  seconds: number;
}

/** Builds the solve workspace image (about 3-4 minutes, most of it downloading Debian packages). */
export function buildWorkspaceImage(options: { name?: string; mirror?: string; onProgress?: (message: string) => void } = {}): Promise<BuiltImage> {
  return buildDebianImage({
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
  });
}

/** debootstrap --variant=minbase with the packages, then `docker import` of the root file system. */
export async function buildDebianImage(spec: DebianImageSpec): Promise<BuiltImage> {
  const { execa } = await import("execa");
  const started = performance.now();
  const say = spec.onProgress ?? (() => undefined);
  await requireTool("debootstrap", "apt-get install -y debootstrap");
  await requireTool("docker", "apt-get install -y docker.io, and start the engine (dockerd &)");
  if (process.getuid?.() !== 0) {
    throw new KoderzError("sandbox_unavailable", `building ${spec.name} with debootstrap needs root`, `run the build as root (sudo), or build ${spec.name} elsewhere and load it with docker load`);
  }
  const rootfs = await mkdtemp(path.join(tmpdir(), "koderz-rootfs-"));
  try {
    say(`debootstrap ${SUITE} with ${spec.packages.join(", ")}`);
    const bootstrap = await execa(
      "debootstrap",
      ["--variant=minbase", `--include=${spec.packages.join(",")}`, SUITE, rootfs, spec.mirror ?? DEFAULT_MIRROR],
      { reject: false, all: true },
    );
    if (bootstrap.exitCode !== 0) {
      throw new KoderzError(
        "sandbox_unavailable",
        `debootstrap failed (exit ${bootstrap.exitCode}): ${lastLines(String(bootstrap.all ?? ""), 5)}`,
        "check that the Debian mirror is reachable (or pass another mirror) and that there is disk space",
      );
    }
    if (spec.aptPackages?.length) await aptInstall(rootfs, spec.aptPackages, say);
    // Package caches are a third of the size and of no use in a container that never installs.
    await rm(path.join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
    await rm(path.join(rootfs, "var/lib/apt/lists"), { recursive: true, force: true });
    say(`importing ${spec.name}`);
    const changes = (spec.changes ?? []).flatMap((change) => ["--change", change]);
    // Streamed: the root file system is hundreds of megabytes and must not be buffered.
    const imported = await execa("tar", ["-C", rootfs, "-c", "."], { buffer: false }).pipe("docker", ["import", ...changes, "-", spec.name], { reject: false, all: true });
    if (imported.exitCode !== 0) {
      throw new KoderzError("sandbox_unavailable", `docker import of ${spec.name} failed: ${lastLines(String(imported.all ?? ""), 5)}`, "check that the Docker engine answers (docker info)");
    }
    const seconds = (performance.now() - started) / 1000;
    say(`built ${spec.name} in ${seconds.toFixed(0)} s`);
    return { name: spec.name, seconds };
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

async function aptInstall(rootfs: string, packages: readonly string[], say: (message: string) => void): Promise<void> {
  const { execa } = await import("execa");
  say(`apt-get install ${packages.join(", ")}`);
  const resolvConf = path.join(rootfs, "etc/resolv.conf");
  await copyFile("/etc/resolv.conf", resolvConf);
  try {
    const script = `apt-get update -q && apt-get install -y -q --no-install-recommends ${packages.join(" ")} && apt-get clean`;
    const installed = await execa("chroot", [rootfs, "sh", "-c", script], { reject: false, all: true, env: { DEBIAN_FRONTEND: "noninteractive" } });
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
