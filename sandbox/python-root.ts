import { lstat, readlink } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { packageFilePath } from "../src/package-file.js";

/**
 * The root filesystem of the process sandbox, as bubblewrap operations: this machine's Python,
 * its standard library, numpy and the shared libraries they load, each read-only at its own
 * path, and nothing else of the host (no home, no repository, no dataset, no socket). A path
 * reached through symlinks (/lib -> usr/lib, libblas.so.3 -> /etc/alternatives/...) gets the
 * same links in the sandbox, so the dynamic loader finds every library where it looks here.
 */
export interface PythonRoot {
  /** The interpreter to start in the sandbox (its path there is its path here). */
  python: string;
  /** bwrap arguments that build the root, in order. */
  args: string[];
}

const probeOutput = z.object({
  executable: z.string().min(1),
  directories: z.array(z.string()),
  hidden: z.array(z.string()),
  libraries: z.array(z.string()),
});

/** Where the loader finds libraries by name; bound so that it resolves them as the probe did. */
const LOADER_CACHE = "/etc/ld.so.cache";

const roots = new Map<string, Promise<PythonRoot>>();

/** The root for `python`, found once per process (the probe reads some hundred ELF headers). */
export function pythonRoot(python: string): Promise<PythonRoot> {
  let root = roots.get(python);
  if (!root) {
    root = findPythonRoot(python);
    roots.set(python, root);
    root.catch(() => roots.delete(python));
  }
  return root;
}

async function findPythonRoot(python: string): Promise<PythonRoot> {
  const { execa } = await import("execa");
  const probe = await execa(python, ["-I", "-B", packageFilePath(import.meta.url, "./python-root-probe.py")], { reject: false, timeout: 60_000 });
  const lastLine = String(probe.stdout ?? "").trim().split("\n").pop() ?? "";
  let parsed: z.infer<typeof probeOutput>;
  try {
    parsed = probeOutput.parse(JSON.parse(lastLine));
  } catch {
    throw new KoderzError(
      "sandbox_unavailable",
      `the process sandbox could not list what ${python} needs (Python, its standard library and numpy)${probe.stderr ? `: ${String(probe.stderr).trim().split("\n").pop()}` : ""}`,
      "install numpy for this Python (apt-get install -y python3-numpy), or use the Docker sandbox",
    );
  }
  const plan = new RootPlan();
  const directories = parsed.directories.filter((directory) => !parsed.directories.some((other) => directory.startsWith(other + path.sep)));
  // The standard library first, then empty site-packages over it, then numpy back on top.
  const [beforeHidden, afterHidden] = partition(directories, (directory) => !parsed.hidden.some((hidden) => directory.startsWith(hidden + path.sep)));
  for (const directory of beforeHidden) await plan.expose(directory);
  for (const hidden of parsed.hidden) plan.cover(hidden);
  for (const directory of afterHidden) await plan.expose(directory);
  await plan.expose(parsed.executable);
  for (const library of parsed.libraries) await plan.expose(library);
  await plan.expose(LOADER_CACHE);
  return { python: parsed.executable, args: plan.args };
}

/** bwrap operations for a set of host paths, each read-only at its own place, links kept. */
class RootPlan {
  readonly args: string[] = [];
  private readonly bound: string[] = [];
  private readonly links = new Set<string>();
  private readonly made = new Set<string>();

  /** Makes `target` reachable in the sandbox as it is here: every symlink on the way, then the real file or directory. */
  async expose(target: string): Promise<void> {
    let pending = path.normalize(path.resolve(target));
    for (let hops = 0; hops < 40; hops++) {
      if (this.covered(pending)) return;
      const link = await firstSymlink(pending);
      if (!link) {
        if (!(await exists(pending))) return; // a dangling name: nothing to bind
        this.makeParents(pending);
        this.bound.push(pending);
        this.args.push("--ro-bind", pending, pending);
        return;
      }
      const [linkPath, linkTarget, rest] = link;
      if (!this.links.has(linkPath) && !this.covered(linkPath)) {
        this.links.add(linkPath);
        this.makeParents(linkPath);
        this.args.push("--symlink", linkTarget, linkPath);
      }
      pending = path.join(path.resolve(path.dirname(linkPath), linkTarget), rest);
    }
  }

  /**
   * Directories bwrap would make on its own to hold a mount point are private to root (0700),
   * which program uids could not pass: each is made here first, open to all (0755).
   */
  private makeParents(target: string): void {
    const parents: string[] = [];
    for (let parent = path.dirname(target); parent !== path.dirname(parent); parent = path.dirname(parent)) parents.unshift(parent);
    for (const parent of parents) {
      if (this.made.has(parent) || this.covered(parent)) continue;
      this.made.add(parent);
      this.args.push("--perms", "0755", "--dir", parent);
    }
  }

  /** An empty directory over `directory` (a site-packages of the host's packages). */
  cover(directory: string): void {
    this.args.push("--tmpfs", directory);
  }

  private covered(target: string): boolean {
    return this.bound.some((bound) => target === bound || target.startsWith(bound + path.sep));
  }
}

/** The first symlink on `target`'s path: [its path, what it points to, the rest of `target` after it]. */
async function firstSymlink(target: string): Promise<[string, string, string] | undefined> {
  const parts = target.split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (let index = 0; index < parts.length; index++) {
    current = path.join(current, parts[index]!);
    const info = await lstat(current).catch(() => undefined);
    if (!info) return undefined;
    if (info.isSymbolicLink()) return [current, await readlink(current), parts.slice(index + 1).join(path.sep)];
  }
  return undefined;
}

async function exists(target: string): Promise<boolean> {
  return (await lstat(target).catch(() => undefined)) !== undefined;
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}
