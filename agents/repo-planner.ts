import type { AgentRole } from "./agent.js";
import { issueSection, WORKSPACE_RULES, type RepoIssueView } from "./repo-agent.js";

export const REPO_PLANNER_ROLE: AgentRole = "Planner";

export const REPO_PLANNER_SYSTEM = `You are the Planner in a team of coding agents resolving an issue in a repository. You do not change code.
Find where the problem lives (list_files, search, read_file), then write a plan of at most 200 words:
the cause as you understand it, the files and functions to change, and how to check the fix.
${WORKSPACE_RULES}`;

export function repoPlannerMessage(view: RepoIssueView, repoMap: string): string {
  return `${issueSection(view)}\n\nA map of the repository:\n${repoMap}\n\nWrite the plan.`;
}
