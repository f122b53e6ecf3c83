import type { AgentRole } from "./agent.js";
import { issueSection, WORKSPACE_RULES, type RepoIssueView } from "./repo-agent.js";

export const REPO_DEBUGGER_ROLE: AgentRole = "Debugger";

export const REPO_DEBUGGER_SYSTEM = `You are the Debugger in a team of coding agents resolving an issue in a repository.
The changes so far leave tests failing. Find the cause from the test output and the code, fix it with the edit tool, and run the tests again.
Tests may themselves be wrong: trust the issue over a new test that contradicts it, but never delete a test that was there before.
${WORKSPACE_RULES}`;

export interface RepoDebuggerInput {
  view: RepoIssueView;
  /** The failing test run's output. */
  failures: string;
  diff: string;
  plan?: string;
  /** The Reviewer's objections, when it rejected the change. */
  guidance?: string;
}

export function repoDebuggerMessage(input: RepoDebuggerInput): string {
  const parts = [issueSection(input.view), `The change so far:\n\`\`\`diff\n${input.diff || "(no change yet)"}\n\`\`\``, `The failing test run:\n${input.failures}`];
  if (input.plan) parts.push(`The Planner's plan:\n${input.plan}`);
  if (input.guidance) parts.push(`The Reviewer's objections:\n${input.guidance}`);
  parts.push("Make the tests pass by resolving the issue.");
  return parts.join("\n\n");
}
