import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A cgroup for one process-sandbox runner and every program it starts, as the Docker sandbox's
 * container has: memory, pids and CPU held for the batch as a whole, and everything in it killed
 * when the runner stops. Made directly in the cgroup filesystem below koderz's own cgroup, as
 * root only (another user has no cgroup delegated here); v1 (a hierarchy per controller) and v2
 * (one tree, where our cgroup's controllers can be enabled for children) alike. Where a
 * controller cannot be had, the runner goes without it: the runner's per-program rlimits and the
 * pid namespace (which kills every program when the runner dies) still hold.
 */
export interface RunnerCgroup {
  /** The cgroup.procs files the runner's first process must join before it starts anything. */
  procs: string[];
  /** The controllers that hold it (memory, pids, cpu). */
  controllers: string[];
  /** Kills whatever is left in it and removes it. */
  remove(): Promise<void>;
}

export interface RunnerCgroupLimits {
  memoryBytes: number;
  pids: number;
  cpus: number;
}

const CONTROLLERS = ["memory", "pids", "cpu"] as const;
type Controller = (typeof CONTROLLERS)[number];
const CPU_PERIOD_US = 100_000;

let made = 0;

/** A cgroup with these limits, or null where none can be made (not root, no cgroup filesystem). */
export async function makeRunnerCgroup(limits: RunnerCgroupLimits): Promise<RunnerCgroup | null> {
  if (process.getuid?.() !== 0) return null;
  const name = `koderz-sandbox-${process.pid}-${made++}`;
  const places = await ownCgroups().catch(() => []);
  const directories: string[] = [];
  const controllers: string[] = [];
  const procs: string[] = [];
  for (const place of places) {
    const wanted = place.controllers.filter((controller): controller is Controller => (CONTROLLERS as readonly string[]).includes(controller));
    const usable = place.version === 2 ? await enabledForChildren(place.directory, [...CONTROLLERS]) : wanted;
    if (usable.length === 0) continue;
    await removeLeftovers(place.directory);
    const directory = path.join(place.directory, name);
    try {
      await mkdir(directory);
    } catch {
      continue;
    }
    directories.push(directory);
    for (const controller of usable) {
      if (await setLimit(directory, place.version, controller, limits)) controllers.push(controller);
    }
    procs.push(path.join(directory, "cgroup.procs"));
  }
  if (procs.length === 0) return null;
  return { procs, controllers: [...new Set(controllers)], remove: () => removeAll(directories) };
}

interface CgroupPlace {
  version: 1 | 2;
  /** Our own cgroup's directory in the mounted hierarchy. */
  directory: string;
  controllers: string[];
}

/** Where this process's cgroups are, per mounted hierarchy (/proc/self/cgroup and mountinfo). */
async function ownCgroups(): Promise<CgroupPlace[]> {
  const [membership, mountinfo] = await Promise.all([readFile("/proc/self/cgroup", "utf8"), readFile("/proc/self/mountinfo", "utf8")]);
  const mounts = mountinfo.split("\n").flatMap((line) => {
    const [left, right] = line.split(" - ");
    if (!left || !right) return [];
    const fields = left.split(" ");
    const [fstype, , superOptions] = right.split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") return [];
    return [{ version: fstype === "cgroup2" ? (2 as const) : (1 as const), root: fields[3]!, point: fields[4]!, options: (superOptions ?? "").split(",") }];
  });
  return membership.split("\n").flatMap((line): CgroupPlace[] => {
    const [, list, own] = line.split(":");
    if (list === undefined || own === undefined) return [];
    const controllers = list === "" ? [] : list.split(",");
    const mount = list === "" ? mounts.find((candidate) => candidate.version === 2) : mounts.find((candidate) => candidate.version === 1 && controllers.every((controller) => candidate.options.includes(controller)));
    if (!mount || !own.startsWith(mount.root)) return [];
    const directory = path.join(mount.point, path.relative(mount.root, own));
    return [{ version: mount.version, directory, controllers: list === "" ? [...CONTROLLERS] : controllers }];
  });
}

/** v2: the controllers children of `directory` may use (it must hold them in subtree_control). */
async function enabledForChildren(directory: string, wanted: Controller[]): Promise<Controller[]> {
  const enabled = (await readFile(path.join(directory, "cgroup.subtree_control"), "utf8").catch(() => "")).split(/\s+/);
  return wanted.filter((controller) => enabled.includes(controller));
}

async function setLimit(directory: string, version: 1 | 2, controller: Controller, limits: RunnerCgroupLimits): Promise<boolean> {
  const writes: Array<[string, string]> =
    controller === "memory"
      ? version === 2
        ? [["memory.max", String(limits.memoryBytes)], ["memory.swap.max", "0"]]
        : [["memory.limit_in_bytes", String(limits.memoryBytes)]]
      : controller === "pids"
        ? [["pids.max", String(limits.pids)]]
        : version === 2
          ? [["cpu.max", `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`]]
          : [["cpu.cfs_period_us", String(CPU_PERIOD_US)], ["cpu.cfs_quota_us", String(Math.round(limits.cpus * CPU_PERIOD_US))]];
  let ok = true;
  for (const [file, value] of writes) {
    // memory.swap.max is missing where swap accounting is off: the memory limit stands alone.
    const written = await writeFile(path.join(directory, file), value).then(
      () => true,
      () => file === "memory.swap.max",
    );
    ok &&= written;
  }
  return ok;
}

/** Cgroups of koderz processes that died without stopping their runners (kill -9): empty by now, as their pid namespaces died. */
async function removeLeftovers(directory: string): Promise<void> {
  const names = await readdir(directory).catch(() => [] as string[]);
  const dead = names.filter((name) => {
    const owner = /^koderz-sandbox-(\d+)-\d+$/.exec(name)?.[1];
    if (!owner || Number(owner) === process.pid) return false;
    try {
      process.kill(Number(owner), 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  });
  await removeAll(dead.map((name) => path.join(directory, name)));
}

/** Kills what is left in each cgroup (the pid namespace has usually done so) and removes it. */
async function removeAll(directories: string[]): Promise<void> {
  for (const directory of directories) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const members = (await readFile(path.join(directory, "cgroup.procs"), "utf8").catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map(Number);
      if (members.length === 0 && (await rmdir(directory).then(() => true, (error: NodeJS.ErrnoException) => error.code === "ENOENT"))) break;
      await writeFile(path.join(directory, "cgroup.kill"), "1").catch(() => {
        for (const pid of members) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone already
          }
        }
      });
      await sleep(20);
    }
  }
}

/** A shell that moves itself into the runner's cgroups, then becomes the command after them. */
export function joinCgroupsPrefix(procs: string[]): string[] {
  return ["/bin/sh", "-c", 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"', "koderz-cgroup", ...procs, "--"];
}
