import { z } from "zod";
import { MODES } from "../../policy/modes-and-agents.js";
import { parseIssueUrl } from "../../tasks/issue-url.js";
import { KoderzError } from "../errors.js";
import { checkLadderFlag, DEFAULT_FRONTIER_MODEL, DEFAULT_LOCAL_MODEL } from "./benchmark-flags.js";

/** The flags of `koderz solve` and their checks. Light on purpose: a usage error loads nothing else. */

export const MAX_TOOL_CALLS_LIMIT = 300;

const whole = (what: string) => z.coerce.number().int(`${what} must be a whole number`).positive(`${what} must be at least 1`);

export const SolveOptions = z.object({
  repo: z.string().optional(),
  issue: z.string().optional(),
  sweInstance: z.string().optional(),
  instanceId: z.string().optional(),
  commit: z.string().optional(),
  mode: z.enum([...MODES, "auto"]).default("standard"),
  policy: z.string().optional(),
  ladder: z.string().optional(),
  localModel: z.string().default(DEFAULT_LOCAL_MODEL),
  frontierModel: z.string().default(DEFAULT_FRONTIER_MODEL),
  modelFor: z.array(z.string()).default([]),
  config: z.string().optional(),
  testCmd: z.string().min(1, "--test-cmd must not be empty").optional(),
  testTimeout: whole("--test-timeout").default(300),
  failToPass: z.array(z.string()).default([]),
  passToPass: z.array(z.string()).default([]),
  image: z.string().optional(),
  buildImage: z.boolean().default(false),
  network: z.boolean().default(false),
  maxToolCalls: whole("--max-tool-calls").max(MAX_TOOL_CALLS_LIMIT, `--max-tool-calls must be at most ${MAX_TOOL_CALLS_LIMIT}`).default(100),
  maxTokens: whole("--max-tokens").optional(),
  maxUsd: z.coerce.number().positive("--max-usd must be > 0").optional(),
  maxSeconds: z.coerce.number().positive("--max-seconds must be > 0").optional(),
  debugRounds: z.coerce.number().int().nonnegative().default(2),
  apply: z.boolean().default(false),
  branch: z.string().optional(),
  cache: z.boolean().default(false),
  tags: z.string().optional(),
  db: z.string().optional(),
  resultsDir: z.string().default("results"),
  json: z.boolean().default(false),
});
export type SolveFlags = z.infer<typeof SolveOptions>;

export type InputSource = "github" | "swe" | "local" | "none";

/**
 * Where the issue comes from, and every check that needs no file, network or engine: a wrong
 * combination of flags is a usage error before the solve's modules are loaded.
 */
export function checkSolveInputs(issueUrl: string | undefined, flags: SolveFlags): InputSource {
  const given = [issueUrl !== undefined && "an issue URL", flags.sweInstance !== undefined && "--swe-instance", flags.issue !== undefined && "--issue"].filter(Boolean);
  if (given.length > 1) throw new KoderzError("usage", `${given.join(" and ")} cannot be combined`, "pass one of: an issue URL, --swe-instance FILE, or --repo PATH --issue FILE");
  if (flags.issue !== undefined && flags.repo === undefined) throw new KoderzError("usage", "--issue needs --repo PATH", "e.g. koderz solve --repo . --issue issue.md");
  if (flags.instanceId !== undefined && flags.sweInstance === undefined) throw new KoderzError("usage", "--instance-id needs --swe-instance FILE", "name the file the instance is in");
  if (flags.repo !== undefined && issueUrl === undefined && flags.sweInstance === undefined && flags.issue === undefined) {
    throw new KoderzError("usage", "--repo needs an issue", "add --issue FILE, an issue URL, or --swe-instance FILE");
  }
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
