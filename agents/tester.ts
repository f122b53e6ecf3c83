import type { ModelBackend } from "../src/llm/types.js";
import { ask, fencedPrompt, type AgentCall, type AskOptions } from "./agent.js";
import type { PublicTask } from "./public-task.js";

const SYSTEM = `You are the Tester in a team of coding agents. From a function's specification alone
you write extra tests, as single-line Python assert statements that call the function by name,
e.g. \`assert f([1, 2]) == 3\`. Cover edge cases the docstring implies. Only assert behaviour the
specification states. Answer with one \`\`\`python block of at most 8 assert lines.`;

export interface TesterOutput {
  /** Single-line assert statements, each run as its own test. */
  tests: string[];
  call: AgentCall;
}

export async function runTester(backend: ModelBackend, task: PublicTask, options?: AskOptions): Promise<TesterOutput> {
  const user = `Write tests for \`${task.entryPoint}\`:\n\n${fencedPrompt(task.prompt)}`;
  const call = await ask(backend, "Tester", SYSTEM, user, options);
  return { tests: parseAsserts(call.response.text, task.entryPoint), call };
}

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
