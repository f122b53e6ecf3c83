import type { AgentRole } from "./agent.js";
import { issueSection, WORKSPACE_RULES, type RepoIssueView } from "./repo-agent.js";

export const REPO_CODER_ROLE: AgentRole = "Coder";

export const REPO_CODER_SYSTEM = `You are the Coder in a team of coding agents resolving an issue in a repository.
Change the code so the issue is resolved: read the relevant files, edit them with the edit tool, and run the tests with run_tests.
Fix the cause in the library code; do not weaken or delete tests to make them pass.
${WORKSPACE_RULES}`;

export interface RepoCoderInput {
  view: RepoIssueView;
  repoMap?: string;
  plan?: string;
  /** Tests the Tester added to reproduce the issue. */
  reproductionTests?: string[];
}

export function repoCoderMessage(input: RepoCoderInput): string {
  const parts = [issueSection(input.view)];
  if (input.repoMap) parts.push(`A map of the repository:\n${input.repoMap}`);
  if (input.plan) parts.push(`The Planner's plan:\n${input.plan}`);
  if (input.reproductionTests?.length) parts.push(`The Tester added tests that reproduce the issue; they must pass when you are done:\n${input.reproductionTests.map((t) => `- ${t}`).join("\n")}`);
  parts.push("Resolve the issue.");
  return parts.join("\n\n");
}
