import type { AgentSpec } from "./agent.js";
import { promptFile } from "./agent.js";
import { fencedPrompt, issueSection, WORKSPACE_RULES, type FunctionTaskState, type IssueState } from "./team-state.js";
import { ALL_TOOLS } from "./tools/index.js";

/** The Tester writes tests from the specification alone; it never fixes the code. Its answer is the tests it wrote. */
export const TESTER = {
  /** Single-line asserts, each run as its own visible test. */
  humaneval: {
    agent: "Tester",
    system: promptFile("tester.humaneval"),
    message: ({ task }) => `Write tests for \`${task.entryPoint}\`:\n\n${fencedPrompt(task.prompt)}`,
    parse: (answer, { task }) => parseAsserts(answer, task.entryPoint),
  } satisfies AgentSpec<FunctionTaskState, string[]>,

  /** A reproduction test in the repository, named on its `TESTS:` line as run_tests accepts them. */
  repository: {
    agent: "Tester",
    system: promptFile("tester.repository", WORKSPACE_RULES),
    tools: ALL_TOOLS,
    message: ({ issue, plan }) => [issueSection(issue), ...(plan ? [`The Planner's plan:\n${plan}`] : []), "Add a test that reproduces the issue."].join("\n\n"),
    parse: (answer) => parseReproductionTests(answer),
  } satisfies AgentSpec<IssueState, string[]>,
};

/** Keeps one-line asserts that call the function under test; anything else a model adds is dropped. */
export function parseAsserts(text: string, entryPoint: string, limit = 8): string[] {
  const calls = new RegExp(`\\b${entryPoint}\\s*\\(`);
  const unique = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("assert ") && calls.test(line) && bracketsBalance(line)) unique.add(line);
  }
  return [...unique].slice(0, limit);
}

/**
 * A line cut mid-expression would be a syntax error that fails every candidate alike, so it is
 * no test at all. Brackets inside string literals are skipped.
 */
function bracketsBalance(line: string): boolean {
  const closing: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const open: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if ("([{".includes(c)) open.push(c);
    else if (c in closing && open.pop() !== closing[c]) return false;
  }
  return open.length === 0 && quote === undefined && !line.endsWith("\\");
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
