import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { connectEngine } from "../sandbox/engine.js";
import { CONTENT_LABEL, contentKey, ensureDebianImage, imageContentKey, removeStaleRootfs, type DebianImageSpec } from "../sandbox/workspace-image.js";

// How images are built: once per content, and never leaving a root file system behind. The
// images here are a few bytes (a file in an empty root), so no Debian mirror is needed; the
// build path is the workspace image's own (content key, label, import, clean-up).

const docker = connectEngine();
const name = `koderz-test-image-${process.pid}`;
const workspaceImageModule = fileURLToPath(new URL("../dist/sandbox/workspace-image.js", import.meta.url));

afterAll(async () => {
  await docker.getImage(name).remove({ force: true }).catch(() => undefined);
});

function tinySpec(fills: { count: number }, changes: string[] = ["ENV KODERZ_TEST=1"]): DebianImageSpec {
  return {
    name,
    packages: ["python3"],
    changes,
    fillRootfs: async (rootfs) => {
      fills.count += 1;
      await writeFile(path.join(rootfs, "hello.txt"), "hello\n");
    },
  };
}

function rootfsDirsOf(pid: number, dir = tmpdir()): string[] {
  return readdirSync(dir).filter((entry) => entry.startsWith(`koderz-rootfs-${pid}-`));
}

describe("building an image", () => {
  it("builds once per content: the second build of the same spec keeps the image, other content builds again", async () => {
    const fills = { count: 0 };
    const first = await ensureDebianImage(tinySpec(fills), { docker });
    const second = await ensureDebianImage(tinySpec(fills), { docker });
    expect([first.built, second.built]).toEqual([true, false]);
    expect(fills.count).toBe(1);
    expect(await imageContentKey(docker, name)).toBe(contentKey(tinySpec(fills)));
    const inspected = await docker.getImage(name).inspect();
    expect(inspected.Config.Labels?.[CONTENT_LABEL]).toBe(first.contentKey);
    expect(inspected.Config.Env).toContain("KODERZ_TEST=1");

    const changed = await ensureDebianImage(tinySpec(fills, ["ENV KODERZ_TEST=2"]), { docker });
    expect(changed.built).toBe(true);
    expect(fills.count).toBe(2);
    expect((await ensureDebianImage(tinySpec(fills, ["ENV KODERZ_TEST=2"]), { docker, force: true })).built).toBe(true);
    expect(rootfsDirsOf(process.pid)).toEqual([]);
  });

  it("an interrupted build leaves no root file system behind; one killed with -9 is removed by the next build", async () => {
    // A build that writes its root file system and then never finishes, in a process of its own.
    const script = `
      const { buildDebianImage } = await import(${JSON.stringify(workspaceImageModule)});
      await buildDebianImage({ name: ${JSON.stringify(name)}, packages: [], fillRootfs: async (rootfs) => {
        const { writeFile } = await import("node:fs/promises");
        await writeFile(rootfs + "/big", Buffer.alloc(1024 * 1024));
        console.log("filled");
        await new Promise(() => setInterval(() => {}, 1000));
      } }).catch((error) => { console.error(error.message); process.exit(130); });
    `;
    // The builds' temporary folder is this test's own, so only its leftovers are looked at.
    const temp = mkdtempSync(path.join(tmpdir(), "koderz-image-test-"));
    const run = () => execa("node", ["--input-type=module", "-e", script], { reject: false, env: { TMPDIR: temp } });
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const build = run();
      await waitForLine(build, "filled");
      expect(rootfsDirsOf(build.pid!, temp)).toHaveLength(1);
      build.kill(signal);
      const ended = await build;
      expect(ended.stderr).toContain("its temporary root file system was removed");
      expect(rootfsDirsOf(build.pid!, temp)).toEqual([]);
    }

    const killed = run();
    await waitForLine(killed, "filled");
    killed.kill("SIGKILL");
    await killed;
    const left = rootfsDirsOf(killed.pid!, temp);
    expect(left).toHaveLength(1);
    // Something mounted inside, as a killed debootstrap leaves /proc: unmounted, not walked into.
    const mountPoint = path.join(temp, left[0]!, "proc");
    await mkdir(mountPoint, { recursive: true });
    const mounted = (await execa("mount", ["-t", "tmpfs", "tmpfs", mountPoint], { reject: false })).exitCode === 0;
    if (mounted) await writeFile(path.join(mountPoint, "keep"), "inside a mount\n");
    expect(await removeStaleRootfs(temp)).toEqual([left[0]]);
    expect(existsSync(path.join(temp, left[0]!))).toBe(false);
    rmSync(temp, { recursive: true, force: true });
  }, 60_000);
});

async function waitForLine(child: ReturnType<typeof execa>, line: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(line)) resolve();
    });
    child.once("exit", () => reject(new Error(`the build ended before "${line}": ${seen}`)));
  });
}
