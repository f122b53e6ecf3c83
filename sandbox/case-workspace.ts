import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Workspace } from "./workspace.js";

/**
 * A workspace container holding a suite case's files: they are committed to a temporary git
 * repository, which Workspace.open copies in as it copies a user's repository for `koderz solve`.
 * Used by the agentic solver and by `koderz audit` (which scores the untouched workspace).
 */
export async function openCaseWorkspace(files: Record<string, string>, signal?: AbortSignal): Promise<Workspace> {
  // execa is imported where a process is started: most commands start none, and it is some 100 files to load.
  const { execa } = await import("execa");
  const dir = await mkdtemp(path.join(tmpdir(), "koderz-case-"));
  try {
    for (const [relative, text] of Object.entries(files)) {
      const file = path.join(dir, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    const git = (...args: string[]) => execa("git", ["-c", "user.name=koderz", "-c", "user.email=koderz@localhost", "-c", "commit.gpgsign=false", ...args], { cwd: dir });
    await git("init", "-q");
    await git("add", "-A");
    await git("commit", "-q", "--no-verify", "-m", "the case's starting files");
    const commit = (await git("rev-parse", "HEAD")).stdout.trim();
    return await Workspace.open({ repoPath: dir, commit, signal });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
