import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleGit } from "simple-git";
import { KoderzError } from "../../errors.js";

// execa is imported where a process is started: most commands start none, and it is some 100 files to load.

export interface ApplyRequest {
  repoPath: string;
  baseCommit: string;
  diff: string;
  branch: string;
  message: string;
}

/**
 * `--apply`: the patch as one commit on a new local branch that starts at the base commit. It
 * is made in a temporary worktree, so the user's checkout, index and uncommitted files are not
 * touched; only the new branch appears. Nothing is ever pushed. Hooks are skipped: koderz's
 * commit must not set off the user's tooling.
 */
export async function commitOnNewBranch(request: ApplyRequest): Promise<{ branch: string; commit: string }> {
  const { execa } = await import("execa");
  const git = simpleGit(request.repoPath);
  // Checked again: the branch may have appeared while the agents worked.
  await checkNewBranch(request.repoPath, request.branch);
  const dir = path.join(await mkdtemp(path.join(tmpdir(), "koderz-apply-")), "worktree");
  let created = false;
  try {
    await git.raw(["worktree", "add", "--quiet", "-b", request.branch, dir, request.baseCommit]);
    created = true;
    const applied = await execa("git", ["apply", "--index", "--whitespace=nowarn", "-"], { cwd: dir, input: request.diff, reject: false });
    if (applied.exitCode !== 0) throw new KoderzError("internal", `the patch does not apply to ${request.baseCommit}: ${applied.stderr.trim()}`);
    const identity = (await hasIdentity(dir)) ? [] : ["-c", "user.name=koderz", "-c", "user.email=koderz@localhost"];
    const committed = await execa("git", [...identity, "commit", "--quiet", "--no-verify", "-m", request.message], { cwd: dir, reject: false });
    if (committed.exitCode !== 0) throw new KoderzError("internal", `git commit failed: ${committed.stderr.trim()}`);
    const commit = (await execa("git", ["rev-parse", "HEAD"], { cwd: dir })).stdout.trim();
    return { branch: request.branch, commit };
  } catch (error) {
    if (created) await git.raw(["worktree", "remove", "--force", dir]).catch(() => undefined);
    if (created) await git.raw(["branch", "-D", request.branch]).catch(() => undefined);
    created = false;
    throw error;
  } finally {
    if (created) await git.raw(["worktree", "remove", "--force", dir]).catch(() => undefined);
    await rm(path.dirname(dir), { recursive: true, force: true });
  }
}

/**
 * --branch NAME must be a valid branch name that does not exist yet: checked before any model
 * call, so a typo costs nothing.
 */
export async function checkNewBranch(repoPath: string, branch: string): Promise<void> {
  const { execa } = await import("execa");
  const valid = await execa("git", ["check-ref-format", "--branch", branch], { cwd: repoPath, reject: false });
  if (valid.exitCode !== 0 || branch.startsWith("-")) throw new KoderzError("usage", `--branch ${branch} is not a valid branch name`, "use letters, digits, / - _ and . (see git check-ref-format)");
  const exists = await execa("git", ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repoPath, reject: false });
  if (exists.exitCode === 0) throw new KoderzError("bad_input", `branch ${branch} already exists in ${repoPath}`, "pass another --branch NAME, or delete that branch");
}

async function hasIdentity(cwd: string): Promise<boolean> {
  const { execa } = await import("execa");
  const email = await execa("git", ["config", "user.email"], { cwd, reject: false });
  return email.exitCode === 0 && email.stdout.trim() !== "";
}
