import type { AgentRole } from "./agent.js";
import { issueSection, WORKSPACE_RULES, type RepoIssueView } from "./repo-agent.js";

export const REPO_TESTER_ROLE: AgentRole = "Tester";

export const REPO_TESTER_SYSTEM = `You are the Tester in a team of coding agents resolving an issue in a repository. You do not fix the bug.
Write a test that reproduces the issue, in the repository's own test style and location, so it fails now and will pass once the issue is fixed.
Run it with run_tests to see it fail for the right reason.
Finish with a line \`TESTS: <test id or file>[, ...]\` naming the tests you added, as run_tests accepts them.
${WORKSPACE_RULES}`;

export function repoTesterMessage(view: RepoIssueView, plan?: string): string {
  const parts = [issueSection(view)];
  if (plan) parts.push(`The Planner's plan:\n${plan}`);
  parts.push("Add a test that reproduces the issue.");
  return parts.join("\n\n");
}

/** The tests named on the Tester's `TESTS:` line; none when it wrote no such line. */
export function parseReproductionTests(answer: string): string[] {
  const line = answer.split("\n").reverse().find((l) => /^\s*`?TESTS:/i.test(l));
  if (!line) return [];
  return line
    .replace(/^\s*`?TESTS:/i, "")
    .replace(/`/g, "")
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}
