import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { KoderzError } from "../src/errors.js";

/**
 * A repository-level task: an issue to resolve in a repository at one commit. Where it came
 * from (a GitHub issue, a SWE-bench instance, a local issue file) is only in `source` and `id`;
 * everything downstream reads this shape.
 */
export type RepoTaskSource = "github-issue" | "swe-instance" | "local-issue";

export interface RepoTask {
  /** e.g. "acme/widgets#7", "astropy__astropy-12907", "local:widgets:issue.md". */
  id: string;
  source: RepoTaskSource;
  title: string;
  /** What the agents read: title, body and (for GitHub) the comments. */
  issueText: string;
  checkout: RepoCheckout;
  /** Tests that fail before the fix and must pass after it (SWE-bench FAIL_TO_PASS, or --fail-to-pass). */
  failToPass: string[];
  /** Tests that pass before and must still pass after. */
  passToPass: string[];
  /**
   * A SWE-bench test_patch: applied only when grading, never shown to an agent (like HumanEval's
   * hidden tests). When set, the tests in failToPass are hidden from the agents too.
   */
  hiddenTestPatch?: string;
  /**
   * How the SWE-bench harness runs and reads this repository's tests: set for SWE-bench
   * instances, whose FAIL_TO_PASS and PASS_TO_PASS names come from that framework's log.
   */
  testFramework?: TestFramework;
}

/** The test log formats the SWE-bench harness reads: pytest -rA, Django's runtests.py, sympy's bin/test. */
export type TestFramework = "pytest" | "django" | "sympy";

/** A git repository on this machine and the commit to work from. Nothing ever writes to it except `--apply`. */
export interface RepoCheckout {
  /** The user's repository, or a clone koderz made in a temporary directory. */
  path: string;
  /** Full sha of the base commit. */
  commit: string;
  /** True for a clone koderz made (removed afterwards); false for the user's own repository. */
  temporary: boolean;
  /** Removes a temporary clone; a no-op for the user's own repository. */
  dispose(): Promise<void>;
}

/** True when the agents may know which tests the task names (they are not part of a hidden patch). */
export function testsVisibleToAgents(task: RepoTask): boolean {
  return task.hiddenTestPatch === undefined;
}

/**
 * What an agent may see of an issue: the issue, the tests it may run, the test command. A hidden
 * test patch (SWE-bench's test_patch) and the tests it names are removed here, by type and by
 * value, as a function task's hidden tests are by publicView (task.ts).
 */
export interface PublicIssue {
  title: string;
  issueText: string;
  /** Tests the task names that the agents may run (empty when they are hidden or none were given). */
  knownFailingTests: string[];
  testCommand: string;
}

export function publicIssue(task: RepoTask, testCommand: string): PublicIssue {
  return {
    title: task.title,
    issueText: task.issueText,
    knownFailingTests: testsVisibleToAgents(task) ? [...task.failToPass] : [],
    testCommand,
  };
}

/** The user's own repository at `commit` (default HEAD); an error names what is wrong with it. */
export async function localCheckout(repoPath: string, commit: string | undefined): Promise<RepoCheckout> {
  const absolute = path.resolve(repoPath);
  if (!existsSync(absolute)) throw new KoderzError("not_found", `repository ${absolute} does not exist`, "pass --repo PATH of a git repository");
  const git = simpleGit(absolute);
  const isRepo = await git.checkIsRepo().catch(() => false);
  if (!isRepo) throw new KoderzError("bad_input", `${absolute} is not a git repository`, "run `git init && git add -A && git commit -m base` there first, or pass another --repo");
  const top = (await git.revparse(["--show-toplevel"])).trim();
  return { path: top, commit: await resolveCommit(git, commit ?? "HEAD", top), temporary: false, dispose: async () => undefined };
}

export interface CloneOptions {
  /** Any URL git can clone: https://, ssh, file://, or a local path. */
  url: string;
  /** For error messages, e.g. "acme/widgets". */
  displayName: string;
  commit?: string;
  /** The branch to use when no commit is given (the repository's default branch when omitted). */
  branch?: string;
  /** Sent as an HTTP Authorization header, never written into the clone's config or a URL. */
  token?: string;
}

/** Clones into a temporary directory and resolves the commit; the clone is removed by dispose(). */
export async function cloneCheckout(options: CloneOptions): Promise<RepoCheckout> {
  const dir = await mkdtemp(path.join(tmpdir(), "koderz-clone-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const config = options.token ? [`http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${options.token}`).toString("base64")}`] : [];
    const git = simpleGit({ config });
    const args = options.branch && !options.commit ? ["--branch", options.branch, "--single-branch"] : [];
    try {
      await git.clone(options.url, dir, ["--quiet", "--no-checkout", ...args]);
    } catch (error) {
      throw new KoderzError(
        "not_found",
        `cannot clone ${options.displayName}: ${firstLine(error)}`,
        options.token ? "check that GITHUB_TOKEN can read the repository" : "for a private repository set GITHUB_TOKEN; else check the URL and the network",
      );
    }
    const clone = simpleGit(dir, { config });
    return { path: dir, commit: await resolveCommit(clone, options.commit ?? "HEAD", options.displayName), temporary: true, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function resolveCommit(git: SimpleGit, commit: string, where: string): Promise<string> {
  // A leading dash would be read as an option by git.
  if (commit.startsWith("-")) throw new KoderzError("usage", `--commit ${commit} is not a commit`, "pass a sha, branch or tag");
  // simple-git resolves a failed rev-parse --quiet with empty output, so the answer is checked, not just awaited.
  const sha = await git.revparse(["--verify", "--quiet", `${commit}^{commit}`]).then((out) => out.trim(), () => "");
  if (!/^[0-9a-f]{40,64}$/.test(sha)) {
    throw new KoderzError("not_found", `commit ${commit} is not in ${where}`, "check the sha (git log shows the commits), or leave out --commit to use the default branch");
  }
  return sha;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split("\n").find((line) => line.trim() !== "")?.trim() ?? text;
}

/**
 * How many paths in the user's work tree differ from HEAD (modified, staged or untracked): the
 * agents see the committed files only, and the user should know it. 0 for koderz's own clones.
 */
export async function uncommittedChanges(checkout: RepoCheckout): Promise<number> {
  if (checkout.temporary) return 0;
  const status = await simpleGit(checkout.path).raw(["status", "--porcelain", "--untracked-files=normal"]).catch(() => "");
  return status.split("\n").filter((line) => line.trim() !== "").length;
}
