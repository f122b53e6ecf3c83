import type { AgentSpec } from "./agent.js";
import { promptFile } from "./agent.js";
import { fencedPrompt, issueSection, WORKSPACE_RULES, type FunctionTaskState, type IssueState } from "./team-state.js";
import { READ_TOOLS } from "./tools/index.js";

/** The Planner writes the plan the others follow; it never writes code. Its answer is the plan. */
export const PLANNER = {
  humaneval: {
    agent: "Planner",
    system: promptFile("planner.humaneval"),
    message: ({ task }) => `Write the specification and plan for \`${task.entryPoint}\`:\n\n${fencedPrompt(task.prompt)}`,
    parse: (answer) => answer.trim(),
  } satisfies AgentSpec<FunctionTaskState, string>,

  /** It looks around the repository first (read-only tools). */
  repository: {
    agent: "Planner",
    system: promptFile("planner.repository", WORKSPACE_RULES),
    tools: READ_TOOLS,
    message: ({ issue, repoMap }) => `${issueSection(issue)}\n\nA map of the repository:\n${repoMap}\n\nWrite the plan.`,
    parse: (answer) => answer.trim(),
  } satisfies AgentSpec<IssueState, string>,
};
