import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectEngine, inspectImage } from "../sandbox/engine.js";
import { removeOrphanWorkspaces, Workspace } from "../sandbox/workspace.js";
import { buildWorkspaceImage, WORKSPACE_IMAGE } from "../sandbox/workspace-image.js";
import { openStore } from "../src/store/index.js";
import { koderz, spawnKoderz } from "./fixtures/koderz-cli.js";
import { PYTHON_BUG, pythonRepo, type FixtureRepo } from "./fixtures/repos/fixture-repos.js";
import { teamScript } from "./fixtures/repos/solve-team-script.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { startModelWorkDir, TEAM_ENV as env } from "./fixtures/team-workdir.js";

// The workspace container's life and the solve's own: who the container runs as, that a solve
// killed with -9 leaves nothing for long, that Ctrl-C and SIGTERM stop a running command at once
// and clean up, and the checks a user expects before any money is spent.

let server: ScriptedModelServer;
let workDir: string;
let repo: FixtureRepo;
const docker = connectEngine();

beforeAll(async () => {
  if (!(await inspectImage(docker, WORKSPACE_IMAGE))) await buildWorkspaceImage();
  ({ server, workDir } = await startModelWorkDir({ tempPrefix: "koderz-solve-life-" }));
  repo = pythonRepo();
}, 300_000);

afterAll(async () => {
  await server?.close();
});

function solveArgs(...extra: string[]): string[] {
  return ["solve", "--repo", repo.dir, "--issue", repo.issueFile, ...extra];
}

/** The workspace containers a koderz process owns. */
async function containersOf(pid: number): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: ["koderz.role=solve-workspace", `koderz.owner-pid=${pid}`] } });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, seconds = 120): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resolves once a process running `command` is inside the container the koderz process owns. */
async function waitForCommandIn(pid: number, command: string): Promise<string> {
  return waitFor(`${command} in the workspace of ${pid}`, async () => {
    for (const info of await containersOf(pid)) {
      const top = await docker.getContainer(info.Id).top().catch(() => undefined);
      if (top?.Processes?.some((row: string[]) => row.join(" ").includes(command))) return info.Id;
    }
    return undefined;
  });
}

describe("the workspace container", () => {
  it("runs as a non-root user with every capability dropped, and says who owns it", async () => {
    const workspace = await Workspace.open({ repoPath: repo.dir, commit: repo.commit });
    try {
      expect((await workspace.exec(["id", "-u"])).stdout.trim()).toBe("65534");
      const caps = (await workspace.exec(["grep", "CapEff", "/proc/self/status"])).stdout;
      expect(caps).toMatch(/CapEff:\s+0+\s*$/);
      // It can still do its job: the copied files are its own to edit.
      await workspace.writeFile(PYTHON_BUG.file, "changed\n");
      expect(await workspace.changedFiles()).toEqual([PYTHON_BUG.file]);
      const [info] = await containersOf(process.pid);
      expect(info).toBeDefined();
      const inspected = await docker.getContainer(info!.Id).inspect();
      expect(inspected.HostConfig.CapDrop).toEqual(["ALL"]);
      expect(inspected.HostConfig.SecurityOpt).toContain("no-new-privileges");
      expect(inspected.Config.User).not.toMatch(/^(root|0)?(:|$)/);
    } finally {
      await workspace.close();
    }
    expect(await containersOf(process.pid)).toEqual([]);
  });
});

describe("a solve that dies or is stopped", () => {
  it("killed with -9 leaves its container, which the next solve removes; a live solve's container is never touched", async () => {
    const killed = spawnKoderz(solveArgs("--test-cmd", "sleep 301", "--test-timeout", "600"), { cwd: workDir, env });
    const orphan = await waitForCommandIn(killed.pid!, "sleep 301");
    const live = spawnKoderz(solveArgs("--test-cmd", "sleep 302", "--test-timeout", "600"), { cwd: workDir, env });
    try {
      const liveContainer = await waitForCommandIn(live.pid!, "sleep 302");
      killed.kill("SIGKILL");
      await killed;
      expect((await containersOf(killed.pid!)).map((c) => c.Id)).toEqual([orphan]);

      // The next solve starts (its tests cannot run, which is quick) and cleans up after the dead
      // one, and says so; unless a solve of another test file, running beside this one, started
      // first and removed it (every solve does this clean-up).
      const next = await koderz(solveArgs("--test-cmd", "exit 127"), { cwd: workDir, env });
      expect(next.exitCode).toBe(1);
      const removed = /removed \d+ workspace containers? left by a solve that died \(([^)]*)\)/.exec(next.stderr);
      if (removed) expect(removed[1]).toContain(orphan.slice(0, 12));
      expect(await containersOf(killed.pid!)).toEqual([]);
      expect((await containersOf(live.pid!)).map((c) => c.Id)).toEqual([liveContainer]);
    } finally {
      live.kill("SIGKILL");
      await live;
      await removeOrphanWorkspaces(docker);
    }
  }, 240_000);

  it("Ctrl-C stops a running test command at once and removes the container", async () => {
    // The command would run for ten minutes; the test's own time limit is far shorter.
    const solve = spawnKoderz(solveArgs("--test-cmd", "sleep 600", "--test-timeout", "900"), { cwd: workDir, env });
    await waitForCommandIn(solve.pid!, "sleep 600");
    solve.kill("SIGINT");
    const result = await solve;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain("the command running in the workspace was stopped");
    expect(await containersOf(solve.pid!)).toEqual([]);
  }, 120_000);

  it("SIGTERM during the agents' work marks the run interrupted and removes the container", async () => {
    server.reset();
    const team = teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } });
    server.setScript((chat, index) => {
      // The Coder's first move is a command that would run for ten minutes.
      if (chat.messages[0]?.content.includes("You are the Coder") && !chat.messages.some((m) => m.role === "assistant")) {
        return { toolCalls: [{ id: "call_sleep", name: "run", arguments: { command: "sleep 603", timeout_seconds: 300 } }] };
      }
      return team.script(chat, index);
    });
    const solve = spawnKoderz(solveArgs("--mode", "fast", "--fail-to-pass", PYTHON_BUG.failingTest), { cwd: workDir, env });
    await waitForCommandIn(solve.pid!, "sleep 603");
    solve.kill("SIGTERM");
    const result = await solve;
    expect(result.exitCode).toBe(143);
    expect(await containersOf(solve.pid!)).toEqual([]);
    const runId = /run (solve_[0-9a-f]{8}_\d{8}_\d{6})/.exec(String(result.stderr))?.[1];
    expect(runId, String(result.stderr)).toBeDefined();
    const store = openStore({ path: path.join(workDir, "results", "koderz.db"), mustExist: true });
    try {
      expect(store.getRun(runId!).status).toBe("interrupted");
      const [experiment] = store.experiments(runId!);
      expect(experiment!.verdict).toContain("interrupted");
    } finally {
      store.close();
    }
  }, 120_000);
});

describe("before any model call", () => {
  it("--apply --branch NAME: an invalid name or an existing branch is refused first", async () => {
    const before = await execa("git", ["branch", "--list"], { cwd: repo.dir });
    server.reset();
    server.setScript(teamScript({ fix: { file: PYTHON_BUG.file, ...PYTHON_BUG.fix } }).script);
    const invalid = await koderz(solveArgs("--apply", "--branch", "fix..it", "--fail-to-pass", PYTHON_BUG.failingTest), { cwd: workDir, env });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain("--branch fix..it is not a valid branch name");
    const existing = await koderz(solveArgs("--apply", "--branch", "main", "--fail-to-pass", PYTHON_BUG.failingTest), { cwd: workDir, env });
    expect(existing.exitCode).toBe(1);
    expect(existing.stderr).toContain(`branch main already exists in ${repo.dir}`);
    expect(server.chatRequests).toHaveLength(0);
    expect((await execa("git", ["branch", "--list"], { cwd: repo.dir })).stdout).toBe(before.stdout);
  });

  it("uncommitted changes in --repo are announced: the agents see the commit only", async () => {
    const readme = path.join(repo.dir, "README.md");
    const original = readFileSync(readme, "utf8");
    writeFileSync(readme, original + "\nwork in progress\n");
    try {
      const result = await koderz(solveArgs("--test-cmd", "exit 127"), { cwd: workDir, env });
      expect(result.stderr).toContain(`has 1 uncommitted change: the agents see commit ${repo.commit.slice(0, 12)} only`);
    } finally {
      writeFileSync(readme, original);
    }
    const clean = await koderz(solveArgs("--test-cmd", "exit 127"), { cwd: workDir, env });
    expect(clean.stderr).not.toContain("uncommitted");
  });

  it("tests that cannot run: the error names the command and shows the first lines of its output, not all of it", async () => {
    // A conftest that prints a lot, then fails: every test file of the suite stops on it.
    const noisy = pythonRepo();
    writeFileSync(path.join(noisy.dir, "conftest.py"), "import sys\nfor i in range(3000):\n    print(f'noise line {i}', file=sys.stderr)\nraise ImportError('conftest is broken')\n");
    await execa("git", ["add", "-A"], { cwd: noisy.dir });
    await execa("git", ["-c", "user.name=F", "-c", "user.email=f@example.com", "commit", "-qm", "noisy conftest"], { cwd: noisy.dir });
    server.reset();
    const result = await koderz(["solve", "--repo", noisy.dir, "--issue", noisy.issueFile], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the repository's tests cannot run");
    expect(result.stderr).toContain("$ python3 -m pytest -q -rA -p no:cacheprovider tests/test_words.py");
    expect(result.stderr).toContain("conftest is broken");
    expect(result.stderr).toContain("more lines)");
    expect(result.stderr.length).toBeLessThan(8_000);
    expect(server.chatRequests).toHaveLength(0);
  });
});
