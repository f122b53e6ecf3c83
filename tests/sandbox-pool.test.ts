import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DockerSandbox } from "../sandbox/docker-sandbox.js";
import { connectEngine } from "../sandbox/engine.js";
import { BOTH_SANDBOXES } from "./helpers/sandboxes.js";

const DIST_SANDBOX = path.resolve(import.meta.dirname, "../dist/sandbox");

/**
 * The warm pool as a user's process lives with it: batches after the first reuse a runner, the
 * process still ends when its work is done (idle runners do not hold it), close() returns, and a
 * process killed with -9 leaves no container once koderz starts again.
 */
describe("warm sandbox pool in a real process", () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "koderz-pool-"));
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** A node script that runs `batches` one-program batches on the sandbox, then `ending`. */
  async function script(name: string, batches: number, ending: "close" | "exit" | "hang"): Promise<string> {
    const file = path.join(scratch, `${name}-${ending}.mjs`);
    const open =
      name === "docker"
        ? `const { DockerSandbox } = await import(${JSON.stringify(`${DIST_SANDBOX}/docker-sandbox.js`)}); const sandbox = new DockerSandbox();`
        : `const { ProcessSandbox } = await import(${JSON.stringify(`${DIST_SANDBOX}/process-sandbox.js`)}); const sandbox = await ProcessSandbox.open();`;
    await writeFile(
      file,
      `${open}
for (let i = 0; i < ${batches}; i++) {
  const [verdict] = await sandbox.run([{ id: "p" + i, source: "def f(x):\\n    return x + 1\\n", check: "assert f(1) == 2", timeoutSeconds: 5 }]);
  console.log(verdict.result);
}
${ending === "close" ? "await sandbox.close(); console.log('closed');" : ending === "hang" ? "console.log('ready'); setInterval(() => {}, 1000);" : ""}
`,
    );
    return file;
  }

  test.each(BOTH_SANDBOXES)("$name: batches one after another on a warm runner, close() returns, and a process without close() still ends", async ({ name }) => {
    const closing = await execa("node", [await script(name, 3, "close")], { reject: false, timeout: 120_000 });
    expect(closing.stdout.split("\n")).toEqual(["passed", "passed", "passed", "closed"]);
    expect(closing.exitCode).toBe(0);
    // Without close(): the idle runner must not keep the process alive, nor cut its work short.
    const leaving = await execa("node", [await script(name, 2, "exit")], { reject: false, timeout: 120_000 });
    expect(leaving.stdout.split("\n")).toEqual(["passed", "passed"]);
    expect(leaving.exitCode).toBe(0);
  });

  test("docker: a process killed with -9 leaves no container after the next start", async () => {
    const docker = connectEngine();
    const child = execa("node", [await script("docker", 1, "hang")], { reject: false });
    const pid = child.pid!;
    await new Promise<void>((resolve) => child.stdout!.on("data", (chunk: Buffer) => String(chunk).includes("ready") && resolve()));
    const owned = async () => (await docker.listContainers({ all: true, filters: { label: [`koderz.owner-pid=${pid}`] } })).map((c) => c.Id);
    expect(await owned()).toHaveLength(1); // its warm container waits for the next batch
    child.kill("SIGKILL");
    await child;
    const next = new DockerSandbox();
    try {
      const [verdict] = await next.run([{ id: "after", source: "x = 1", timeoutSeconds: 5 }]);
      expect(verdict!.passed).toBe(true);
      expect(await owned()).toEqual([]);
    } finally {
      await next.close();
    }
  });
});
