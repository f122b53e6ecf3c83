import { parseIssueUrl } from "../../tasks/issue-url.js";
import { KoderzError } from "../errors.js";
import { checkLadderFlag } from "./benchmark-flags.js";

/** How the flags of `koderz solve` combine. Light on purpose: a usage error here loads nothing else, not even zod (solve-options.ts checks the values). */

export const MAX_TOOL_CALLS_LIMIT = 300;

export type InputSource = "github" | "swe" | "local" | "none";

/** What checkSolveInputs reads: the flags as commander gives them (absent when not given) or as parsed. */
export interface SolveInputFlags {
  mode: string;
  ladder?: string;
  repo?: string;
  issue?: string;
  sweInstance?: string;
  instanceId?: string;
  commit?: string;
  branch?: string;
  apply?: boolean;
  force?: boolean;
  buildImage?: boolean;
}

/**
 * Where the issue comes from, and every check that needs no file, network or engine: a wrong
 * combination of flags is a usage error before the solve's modules are loaded.
 */
export function checkSolveInputs(issueUrl: string | undefined, flags: SolveInputFlags): InputSource {
  const given = [issueUrl !== undefined && "an issue URL", flags.sweInstance !== undefined && "--swe-instance", flags.issue !== undefined && "--issue"].filter(Boolean);
  if (given.length > 1) throw new KoderzError("usage", `${given.join(" and ")} cannot be combined`, "pass one of: an issue URL, --swe-instance FILE, or --repo PATH --issue FILE");
  if (flags.issue !== undefined && flags.repo === undefined) throw new KoderzError("usage", "--issue needs --repo PATH", "e.g. koderz solve --repo . --issue issue.md");
  if (flags.instanceId !== undefined && flags.sweInstance === undefined) throw new KoderzError("usage", "--instance-id needs --swe-instance FILE", "name the file the instance is in");
  if (flags.repo !== undefined && issueUrl === undefined && flags.sweInstance === undefined && flags.issue === undefined) {
    throw new KoderzError("usage", "--repo needs an issue", "add --issue FILE, an issue URL, or --swe-instance FILE");
  }
  if (flags.force && !flags.apply) throw new KoderzError("usage", "--force only applies with --apply", "add --apply to commit a change that is not solved, or leave out --force");
  if (flags.branch && !flags.apply) throw new KoderzError("usage", "--branch only applies with --apply", "add --apply, or leave out --branch");
  if (flags.apply && flags.repo === undefined) throw new KoderzError("usage", "--apply needs a local clone to commit on", "pass --repo PATH (a clone of the repository); the patch is always written to results/ as well");
  if (flags.sweInstance !== undefined && flags.commit) throw new KoderzError("usage", "--commit does not apply to --swe-instance", "the instance's base_commit is used");
  checkLadderFlag(flags);
  if (issueUrl !== undefined) {
    parseIssueUrl(issueUrl, { apiBaseUrl: process.env.GITHUB_API_URL || undefined });
    return "github";
  }
  if (flags.sweInstance !== undefined) return "swe";
  if (flags.issue !== undefined) return "local";
  if (!flags.buildImage) throw new KoderzError("usage", "nothing to solve", "pass an issue URL, --repo PATH --issue FILE, or --swe-instance FILE");
  return "none";
}
