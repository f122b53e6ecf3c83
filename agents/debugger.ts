import type { AgentSpec } from "./agent.js";
import { promptFile } from "./agent.js";
import { candidateOf, candidateProgram, codeIn, fencedPrompt, issueSection, summaryOf, WORKSPACE_RULES, type FunctionTaskState, type IssueState } from "./team-state.js";
import { ALL_TOOLS, clip } from "./tools/index.js";

/** A diff longer than this is cut in the Debugger's message (the Reviewer reads it whole). */
const MAX_DIFF_CHARS = 12_000;

/** The Debugger fixes the code the tests fail on, reading the failures (and the Reviewer's objections). */
export const DEBUGGER = {
  /** The failures are the visible tests' (docstring examples, the Tester's asserts); its answer is the fixed completion. */
  humaneval: {
    agent: "Debugger",
    system: promptFile("debugger.humaneval"),
    message: (state) => {
      const { task, plan, guidance } = state;
      const candidate = candidateOf(state);
      const parts = [`The function:\n\n${fencedPrompt(candidateProgram(task, candidate.completion))}`, `Failing tests:\n${candidate.testReport}`];
      if (plan) parts.push(`The Planner's specification:\n${plan}`);
      if (guidance) parts.push(`Guidance from a reviewer:\n${guidance}`);
      return parts.join("\n\n");
    },
    parse: codeIn,
  } satisfies AgentSpec<FunctionTaskState, string>,

  /** It edits the workspace itself; its answer is a summary. */
  repository: {
    agent: "Debugger",
    system: promptFile("debugger.repository", WORKSPACE_RULES),
    tools: ALL_TOOLS,
    message: ({ issue, diff, testReport, plan, guidance }) => {
      const parts = [issueSection(issue), `The change so far:\n\`\`\`diff\n${clip(diff ?? "", MAX_DIFF_CHARS) || "(no change yet)"}\n\`\`\``, `The failing test run:\n${testReport ?? ""}`];
      if (plan) parts.push(`The Planner's plan:\n${plan}`);
      if (guidance) parts.push(`The Reviewer's objections:\n${guidance}`);
      parts.push("Make the tests pass by resolving the issue.");
      return parts.join("\n\n");
    },
    parse: summaryOf,
  } satisfies AgentSpec<IssueState, string>,
};
