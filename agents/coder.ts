import type { AgentSpec } from "./agent.js";
import { promptFile } from "./agent.js";
import { candidateOf, candidateProgram, codeIn, fencedPrompt, issueSection, summaryOf, WORKSPACE_RULES, type FunctionTaskState, type IssueState } from "./team-state.js";
import { ALL_TOOLS } from "./tools/index.js";

/** The Coder writes the code. */
export const CODER = {
  /**
   * Its answer is the completion the sanitizer finds in it. With no plan, the message is the
   * standard HumanEval request: the zero-shot protocol.
   */
  humaneval: {
    agent: "Coder",
    system: promptFile("coder.humaneval"),
    message: (state) => (typeof state.coderStart === "object" ? hybridMessage(state, state.coderStart.mergeWith) : draftMessage(state)),
    parse: codeIn,
  } satisfies AgentSpec<FunctionTaskState, string>,

  /** It reads, edits and runs the tests itself; its answer is a summary. */
  repository: {
    agent: "Coder",
    system: promptFile("coder.repository", WORKSPACE_RULES),
    tools: ALL_TOOLS,
    message: ({ issue, repoMap, plan, reproductionTests, diff, testReport }) => {
      const parts = [issueSection(issue)];
      // With a plan, the Planner's findings (and the Tester's reproduction) replace the map of the repository.
      if (plan === undefined) {
        if (repoMap) parts.push(`A map of the repository:\n${repoMap}`);
      } else {
        if (plan) parts.push(`The Planner's plan:\n${plan}`);
        if (reproductionTests.length) parts.push(`The Tester added tests that reproduce the issue; they must pass when you are done:\n${reproductionTests.map((t) => `- ${t}`).join("\n")}`);
      }
      // After an escalation (`solve --ladder`): the cheaper rung's change is in the workspace already.
      if (diff !== undefined && testReport !== undefined) {
        parts.push(`The best attempt so far (already in the workspace):\n\`\`\`diff\n${diff.trimEnd()}\n\`\`\``, `Its test results:\n${testReport}`, "Start from it: keep what is right and fix what fails.");
      }
      parts.push("Resolve the issue.");
      return parts.join("\n\n");
    },
    parse: summaryOf,
  } satisfies AgentSpec<IssueState, string>,
};

function draftMessage({ task, plan, guidance, candidate, coderStart }: FunctionTaskState): string {
  const parts = [`Complete the following Python function:\n\n${fencedPrompt(task.prompt)}`];
  if (plan) parts.push(`Plan from the Planner:\n${plan}`);
  if (guidance) parts.push(`Guidance from a reviewer:\n${guidance}`);
  if (coderStart === "candidate" && candidate) {
    parts.push(`The best attempt so far:\n${fencedPrompt(candidateProgram(task, candidate.completion))}`, `Its test results:\n${candidate.testReport}`, "Write a version that passes.");
  }
  return parts.join("\n\n");
}

/** Deep mode's last resort: one program that takes the best of the two best candidates. */
function hybridMessage(state: FunctionTaskState, partner: string): string {
  const { task } = state;
  const best = candidateOf(state);
  return [
    `Complete the following Python function:\n\n${fencedPrompt(task.prompt)}`,
    `Two candidates passed the most tests. Candidate A:\n${fencedPrompt(candidateProgram(task, best.completion))}`,
    `Candidate B:\n${fencedPrompt(candidateProgram(task, partner))}`,
    `Test results:\n${best.testReport}`,
    "Write one function that combines what each gets right.",
  ].join("\n\n");
}
