import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { KoderzError } from "../src/errors.js";
import { openSandbox } from "../sandbox/select.js";
import { requireDockerSandbox } from "./helpers/docker.js";

/** An engine client that reaches nothing: what a machine without Docker looks like. */
const noEngine = new Docker({ socketPath: "/nonexistent/koderz-test-docker.sock" });

async function failure(promise: Promise<unknown>): Promise<KoderzError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KoderzError);
  return error as KoderzError;
}

describe("choosing a sandbox", () => {
  test("docker is the default when the engine answers and the image exists", async () => {
    await requireDockerSandbox();
    const notices: string[] = [];
    const sandbox = await openSandbox(undefined, { onNotice: (message) => notices.push(message) });
    expect(sandbox.name).toBe("docker");
    expect(notices).toEqual([]);
    await sandbox.close();
  });

  test("a missing image is an error that says to run `koderz sandbox build`", async () => {
    await requireDockerSandbox();
    const error = await failure(openSandbox("docker", { image: "koderz-sandbox-test-missing" }));
    expect(error.code).toBe("sandbox_unavailable");
    expect(error.message).toContain("koderz-sandbox-test-missing");
    expect(error.hint).toContain("koderz sandbox build");
  });

  test("asking for docker with no engine is an error that says how to start one", async () => {
    const error = await failure(openSandbox("docker", { docker: noEngine }));
    expect(error.code).toBe("sandbox_unavailable");
    expect(error.message).toContain("no Docker engine answered");
    expect(error.hint).toContain("dockerd");
    expect(error.hint).toContain("--sandbox process");
  });

  test("with no engine the default falls back to the process sandbox, with a loud warning", async () => {
    const notices: string[] = [];
    const sandbox = await openSandbox(undefined, { docker: noEngine, onNotice: (message) => notices.push(message) });
    try {
      expect(sandbox.name).toBe("process");
      expect(notices.join("\n")).toMatch(/^WARNING: .*PROCESS sandbox.*weaker/);
      expect(notices.join("\n")).toContain("no Docker engine answered");
      const [verdict] = await sandbox.run([{ id: "works", source: "assert sum([1, 2]) == 3\n", timeoutSeconds: 3 }]);
      expect(verdict?.result).toBe("passed");
    } finally {
      await sandbox.close();
    }
  });

  test("--sandbox process is honoured without asking Docker, and still warns", async () => {
    const notices: string[] = [];
    const sandbox = await openSandbox("process", { docker: noEngine, onNotice: (message) => notices.push(message) });
    expect(sandbox.name).toBe("process");
    expect(notices.join("\n")).toContain("you chose --sandbox process");
    await sandbox.close();
  });
});
