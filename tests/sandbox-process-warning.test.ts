import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ProcessSandbox, type ProcessIsolation } from "../sandbox/process-sandbox.js";
import { weakerIsolationWarning } from "../sandbox/select.js";
import { KoderzError } from "../src/errors.js";

const asRoot: ProcessIsolation = { confined: true, privateNetwork: true, privatePids: true, privateIpc: true, programIpc: true, syscallFilter: true, programUids: true, batchCgroup: true };

/** The process sandbox's startup line says plainly what it cannot guarantee on this machine. */
describe("the process sandbox's startup warning", () => {
  test("as root, confined: the fences, and the shared kernel as the one gap", () => {
    const warning = weakerIsolationWarning("you chose --sandbox process", asRoot);
    expect(warning).toMatch(/^WARNING: untrusted code runs in the PROCESS sandbox/);
    expect(warning).toContain("no file, dataset or socket of this machine");
    expect(warning).toContain("a uid of their own");
    expect(warning).toContain("share this machine's kernel (behind a syscall filter");
    expect(warning).toContain("an IPC namespace each");
    expect(warning).toContain("one cgroup for the batch, none per program");
    expect(warning).not.toContain("runner's uid");
    expect(warning).not.toContain("share one IPC namespace");
  });

  test("not root: programs share the runner's uid, and get no cgroup", () => {
    const warning = weakerIsolationWarning("you chose --sandbox process", { ...asRoot, programIpc: false, programUids: false, batchCgroup: false });
    expect(warning).toContain("run under the runner's uid, as koderz does not run as root");
    expect(warning).toContain("leave processes or files for the next program of its slot");
    expect(warning).toContain("memory and CPU are held by per-program rlimits alone");
    expect(warning).toContain("share one IPC namespace per batch (a program's SysV objects are seen by the programs beside it and after it, until the batch ends)");
    // Still confined: the root of Python alone and the namespaces do not need root.
    expect(warning).toContain("no file, dataset or socket of this machine");
  });

  test("unconfined on request: says programs can read your files and reach the network", () => {
    const warning = weakerIsolationWarning("you chose --sandbox process", { ...asRoot, confined: false, privateNetwork: false, privatePids: false, privateIpc: false, programIpc: false, syscallFilter: false, programUids: false });
    expect(warning).toContain("are NOT confined (KODERZ_PROCESS_SANDBOX=unconfined)");
    expect(warning).toContain("can read your files");
    expect(warning).toContain("reach the network");
    expect(warning).not.toContain("no file, dataset or socket of this machine");
  });
});

describe("the process sandbox without bubblewrap", () => {
  test("refuses to start, with one error that says how to install it", async () => {
    const emptyPath = await mkdtemp(path.join(tmpdir(), "koderz-no-bwrap-"));
    const saved = process.env.PATH;
    process.env.PATH = emptyPath;
    try {
      const error = await ProcessSandbox.open({ python: "/usr/bin/python3" }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(KoderzError);
      const failure = error as KoderzError;
      expect(failure.code).toBe("sandbox_unavailable");
      expect(failure.message).toContain("bubblewrap (bwrap) is not installed");
      expect(failure.hint).toContain("apt-get install -y bubblewrap");
    } finally {
      process.env.PATH = saved;
      await rm(emptyPath, { recursive: true, force: true });
    }
  });
});
