import type { RepoTask } from "../tasks/repo-task.js";
import { testsVisibleToAgents } from "../tasks/repo-task.js";

/**
 * What a repository-level agent may see of a task: the issue, the tests it may run, the test
 * command. A hidden test patch (SWE-bench's test_patch) and the tests it names are removed here,
 * by type and by value, as HumanEval's hidden tests are in public-task.ts.
 */
export interface RepoIssueView {
  title: string;
  issueText: string;
  /** Tests the task names that the agents may run (empty when they are hidden or none were given). */
  knownFailingTests: string[];
  testCommand: string;
}

export function repoIssueView(task: RepoTask, testCommand: string): RepoIssueView {
  return {
    title: task.title,
    issueText: task.issueText,
    knownFailingTests: testsVisibleToAgents(task) ? [...task.failToPass] : [],
    testCommand,
  };
}

/** The issue as every role reads it. */
export function issueSection(view: RepoIssueView): string {
  const parts = [`<issue>\n${view.issueText}\n</issue>`, `The repository's test command: \`${view.testCommand}\` (run it with the run_tests tool).`];
  if (view.knownFailingTests.length) parts.push(`These tests reproduce the issue and fail now; they must pass when you are done:\n${view.knownFailingTests.map((t) => `- ${t}`).join("\n")}`);
  return parts.join("\n\n");
}

/** The rules every tool-using role follows. */
export const WORKSPACE_RULES = `You work in a copy of the repository inside a container, through the tools you are given.
Paths are relative to the repository root. Read before you edit; keep changes small and in the style of the code around them.
When you are done, stop calling tools and answer with a short summary.`;
