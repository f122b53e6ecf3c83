import type { AgentRole } from "./agent.js";
import { issueSection, type RepoIssueView } from "./repo-agent.js";
import { parseReview } from "./reviewer.js";

export const REPO_REVIEWER_ROLE: AgentRole = "Reviewer";

export const REPO_REVIEWER_SYSTEM = `You are the Reviewer in a team of coding agents resolving an issue in a repository.
You judge the final change: does it resolve the issue at its cause, without breaking other behaviour or weakening tests?
You may read files for context (list_files, search, read_file); you do not edit.
Answer with ACCEPT or REJECT on the first line, then at most 150 words: what is wrong and how to fix it (or why it is right).`;

export function repoReviewerMessage(view: RepoIssueView, diff: string, testReport: string): string {
  return `${issueSection(view)}\n\nThe change:\n\`\`\`diff\n${diff || "(empty: nothing was changed)"}\n\`\`\`\n\nThe test run after the change:\n${testReport}`;
}

/** Same rule as the function-level Reviewer: only an explicit ACCEPT accepts. */
export const parseRepoReview = parseReview;
