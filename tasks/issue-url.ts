import { KoderzError } from "../src/errors.js";

/** owner/repo and issue number, from https://github.com/OWNER/REPO/issues/N. */
export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Reads the issue URL; anything else is a usage error saying what an issue URL looks like. */
export function parseIssueUrl(raw: string, options: { apiBaseUrl?: string } = {}): IssueRef {
  const usage = (why: string) =>
    new KoderzError("usage", `${JSON.stringify(raw)} is not a GitHub issue URL: ${why}`, "pass it as https://github.com/OWNER/REPO/issues/NUMBER, or use --repo PATH --issue FILE for a local issue");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usage("it is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw usage("it must start with https://");
  // GitHub Enterprise issues live on other hosts; those need GITHUB_API_URL to say where the API is.
  if (!["github.com", "www.github.com"].includes(url.hostname) && !options.apiBaseUrl) throw usage(`${url.hostname} is not github.com (for GitHub Enterprise set GITHUB_API_URL)`);
  const [owner, repo, kind, number, ...rest] = url.pathname.split("/").filter(Boolean);
  if (!owner || !repo || kind !== "issues" || !number || rest.length) throw usage("the path must be /OWNER/REPO/issues/NUMBER");
  if (!NAME.test(owner) || !NAME.test(repo)) throw usage("the owner or repository name has characters GitHub does not allow");
  if (!/^[1-9]\d*$/.test(number)) throw usage(`the issue number ${number} is not a positive whole number`);
  return { owner, repo: repo.replace(/\.git$/, ""), number: Number(number) };
}
