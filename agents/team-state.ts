import { sanitizeCompletion } from "../src/evaluation/sanitize.js";
import type { PublicIssue } from "../tasks/repo-task.js";
import type { PublicTask } from "../tasks/task.js";

/**
 * The state a team shares, one shape per product: every agent builds its message from it. The
 * orchestrator keeps the state up to date between turns (the plan, the best candidate, the
 * Reviewer's objections ...); an agent reads only what it needs.
 */

/** Code the team wrote for a function task, with its visible-test report. */
export interface TestedCode {
  /** What follows the prompt: prompt + completion is the program under test. */
  completion: string;
  testReport: string;
}

/** A HumanEval-style function task. */
export interface FunctionTaskState {
  task: PublicTask;
  plan?: string;
  /** The Reviewer's objections (or a stronger model's advice at a checkpoint). */
  guidance?: string;
  /** The candidate in hand: the Debugger fixes it, the Reviewer judges it. */
  candidate?: TestedCode;
  /**
   * How the Coder writes: a fresh draft (unset), a rewrite of the candidate (after an escalation:
   * the work starts from the best attempt so far), or the candidate merged with a second draft
   * (deep's hybrid).
   */
  coderStart?: "candidate" | { mergeWith: string };
}

/** An issue on a repository (`koderz solve`); the agents work in its workspace through tools. */
export interface IssueState {
  issue: PublicIssue;
  repoMap: string;
  plan?: string;
  /** Tests the Tester added to reproduce the issue. */
  reproductionTests: readonly string[];
  /** The change so far. */
  diff?: string;
  /** The last test run the orchestrator made, as the agents read it. */
  testReport?: string;
  /** The Reviewer's objections, when it rejected the change. */
  guidance?: string;
}

/** The function stub as a fenced block: every agent sees the task the same way. */
export function fencedPrompt(prompt: string): string {
  return "```python\n" + prompt.trimEnd() + "\n```";
}

/**
 * The candidate as the program an agent should read. The sanitizer keeps a completion that
 * repeats the whole function as it is, so prompt + completion would show the stub twice.
 */
export function candidateProgram(task: { prompt: string; entryPoint: string }, completion: string): string {
  const definesEntryPoint = new RegExp(`^def ${task.entryPoint}\\s*\\(`, "m").test(completion);
  return definesEntryPoint ? completion.replace(/^\n+/, "") : task.prompt + completion;
}

/** The code in a function-task answer (the Coder's, the Debugger's): what the sanitizer finds in it. */
export function codeIn(answer: string, state: FunctionTaskState): Promise<string> {
  return sanitizeCompletion(answer, state.task);
}

/** A tool-using agent's answer after its work is a summary: the work itself is in the workspace. */
export function summaryOf(answer: string): string {
  return answer;
}

/** The candidate an agent must have in hand (the Debugger's, the Reviewer's). */
export function candidateOf(state: FunctionTaskState): TestedCode {
  if (!state.candidate) throw new Error("this agent works on a candidate, and there is none yet");
  return state.candidate;
}

/** The issue as every repository agent reads it. */
export function issueSection(issue: PublicIssue): string {
  const parts = [`<issue>\n${issue.issueText}\n</issue>`, `The repository's test command: \`${issue.testCommand}\` (run it with the run_tests tool).`];
  if (issue.knownFailingTests.length) parts.push(`These tests reproduce the issue and fail now; they must pass when you are done:\n${issue.knownFailingTests.map((t) => `- ${t}`).join("\n")}`);
  return parts.join("\n\n");
}

/** The rules every tool-using repository agent follows, appended to its prompt. */
export const WORKSPACE_RULES = "workspace-rules";
