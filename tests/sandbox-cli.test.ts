import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, test } from "vitest";
import { requireDockerSandbox } from "./helpers/docker.js";

/** The built CLI (the global setup compiles it before the tests). */
const koderzBin = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));

function koderz(args: string[], env: Record<string, string> = {}) {
  return execa("node", [koderzBin, ...args], { reject: false, env: { ...process.env, ...env } });
}

describe("koderz sandbox", () => {
  test("status says the Docker sandbox is ready when the engine answers and the image exists", async () => {
    await requireDockerSandbox();
    const result = await koderz(["sandbox", "status"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("docker engine (");
    expect(result.stdout).toContain("docker sandbox: ready");
    expect(result.stdout).toMatch(/process sandbox: (available|unavailable)/);
    // koderz solve's image is reported too: there or not, and whether --build-image would keep it.
    expect(result.stdout).toMatch(/workspace image koderz-workspace: (missing|present, up to date|present, built from other content)/);
  });

  test("status exits 1 and tells how to start the engine when none answers", async () => {
    const result = await koderz(["sandbox", "status", "--json"], { DOCKER_HOST: "unix:///nonexistent/koderz-test.sock" });
    expect(result.exitCode).toBe(1);
    const status = JSON.parse(String(result.stdout)) as { docker: { answers: boolean; ready: boolean } };
    expect(status.docker).toMatchObject({ answers: false, ready: false });
  });

  test("build leaves an existing image alone unless --force is given", async () => {
    await requireDockerSandbox();
    const result = await koderz(["sandbox", "build"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe("koderz-sandbox");
    expect(result.stderr).toContain("already exists");
    expect(result.stderr).toContain("--force");
  });
});
