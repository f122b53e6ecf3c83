import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { parseIssueUrl } from "./issue-url.js";
import { cloneCheckout, localCheckout, type RepoTask } from "./repo-task.js";

export interface GithubIssueOptions {
  url: string;
  commit?: string;
  /** GITHUB_TOKEN: private repositories and a higher rate limit. */
  token?: string;
  /** GITHUB_API_URL: GitHub Enterprise, or a test server. Default https://api.github.com. */
  apiBaseUrl?: string;
  /** A local clone to work from (and to --apply to) instead of cloning. */
  repoPath?: string;
  failToPass?: string[];
  passToPass?: string[];
}

const DEFAULT_API = "https://api.github.com";
// Comments beyond this are cut: a long thread would crowd the repository out of the context.
const MAX_ISSUE_CHARS = 30_000;
// For the three API calls together: GitHub answers in well under a second when it answers at all.
const API_TIMEOUT_MS = 30_000;

// What koderz reads of GitHub's answers, checked: a proxy or an API change must not crash a run.
const RepositorySchema = z.object({ full_name: z.string(), clone_url: z.string().min(1), default_branch: z.string().min(1) });
const IssueSchema = z.object({ number: z.number(), title: z.string(), body: z.string().nullish(), html_url: z.string().optional() });
const CommentsSchema = z.array(z.object({ user: z.object({ login: z.string() }).nullish(), body: z.string().nullish(), created_at: z.string().optional() }));

/** The issue's title, body and comments, and a clone of its repository at --commit or the default branch. */
export async function loadGithubIssue(options: GithubIssueOptions): Promise<RepoTask> {
  const ref = parseIssueUrl(options.url, { apiBaseUrl: options.apiBaseUrl });
  const github = new Octokit({
    auth: options.token,
    baseUrl: options.apiBaseUrl ?? DEFAULT_API,
    userAgent: "koderz",
    request: { signal: AbortSignal.timeout(API_TIMEOUT_MS) },
    // Octokit logs every 404 to the console; koderz reports errors itself.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  const where = `${ref.owner}/${ref.repo}`;
  const params = { owner: ref.owner, repo: ref.repo };
  const repository = checked(RepositorySchema, await call(async () => (await github.rest.repos.get(params)).data, where, options), `repository ${where}`);
  const issue = checked(IssueSchema, await call(async () => (await github.rest.issues.get({ ...params, issue_number: ref.number })).data, `${where} issue #${ref.number}`, options), `issue #${ref.number}`);
  const comments = checked(
    CommentsSchema,
    await call(() => github.paginate(github.rest.issues.listComments, { ...params, issue_number: ref.number, per_page: 100 }), `${where} issue #${ref.number}`, options),
    `comments of issue #${ref.number}`,
  );
  const checkout = options.repoPath
    ? await localCheckout(options.repoPath, options.commit)
    : await cloneCheckout({ url: repository.clone_url, displayName: repository.full_name, commit: options.commit, branch: repository.default_branch, token: options.token });
  return {
    id: `${where}#${ref.number}`,
    source: "github-issue",
    title: issue.title,
    issueText: issueText(issue, comments),
    checkout,
    failToPass: options.failToPass ?? [],
    passToPass: options.passToPass ?? [],
  };
}

function issueText(issue: z.infer<typeof IssueSchema>, comments: z.infer<typeof CommentsSchema>): string {
  const parts = [`# ${issue.title}`, (issue.body ?? "").trim() || "(no description)"];
  if (comments.length) {
    parts.push("## Comments");
    for (const comment of comments) parts.push(`**${comment.user?.login ?? "someone"}** wrote:\n${(comment.body ?? "").trim()}`);
  }
  const text = parts.join("\n\n");
  return text.length > MAX_ISSUE_CHARS ? `${text.slice(0, MAX_ISSUE_CHARS)}\n\n(the rest of the thread is cut)` : text;
}

/** Runs one API call; GitHub's failures become errors that say what to do, naming GITHUB_TOKEN where it helps. */
async function call(request: () => Promise<unknown>, what: string, options: GithubIssueOptions): Promise<unknown> {
  try {
    return await request();
  } catch (error) {
    throw githubError(error, what, options);
  }
}

function githubError(error: unknown, what: string, options: GithubIssueOptions): KoderzError {
  const failure = z.object({ status: z.number(), response: z.object({ headers: z.record(z.string(), z.unknown()) }).optional() }).safeParse(error);
  const api = options.apiBaseUrl ?? DEFAULT_API;
  if (!failure.success || !failure.data.response) {
    const reason = error instanceof Error ? error.message : String(error);
    return new KoderzError("not_found", `cannot reach the GitHub API at ${api} for ${what}: ${reason}`, "check the network (and GITHUB_API_URL if set); offline, use --repo PATH --issue FILE");
  }
  const { status, response } = failure.data;
  const token = Boolean(options.token);
  if (status === 401) return new KoderzError("bad_input", `GitHub rejected GITHUB_TOKEN while reading ${what}`, "set GITHUB_TOKEN to a valid token, or unset it for public repositories");
  if ((status === 403 || status === 429) && String(response.headers["x-ratelimit-remaining"]) === "0") {
    return new KoderzError("bad_input", `GitHub's rate limit is used up (reading ${what})`, token ? "wait for the limit to reset (about an hour)" : "set GITHUB_TOKEN: authenticated requests get a far higher limit");
  }
  if (status === 404 || status === 403) {
    return new KoderzError(
      "not_found",
      `${what} was not found${token ? ", or GITHUB_TOKEN cannot read it" : ": it does not exist, or the repository is private"}`,
      token ? "check the URL and that the token has access to the repository" : "for a private repository set GITHUB_TOKEN to a token that can read it; else check the URL",
    );
  }
  return new KoderzError("not_found", `GitHub answered ${status} for ${what}`, "try again later, or check GITHUB_API_URL");
}

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new KoderzError("bad_input", `GitHub's answer for ${what} is not what koderz expects: ${parsed.error.issues[0]?.message ?? "unknown shape"}`, "check GITHUB_API_URL points at a GitHub API");
  return parsed.data;
}
