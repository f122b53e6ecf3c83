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
    if (line.startsWith("assert ") && calls.test(line) && !line.endsWith("\\")) unique.add(line);
  }
  return [...unique].slice(0, limit);
}
