import type { ModelBackend } from "../src/llm/types.js";
import { sanitizeCompletion } from "../src/evaluation/sanitize.js";
import { ask, candidateProgram, fencedPrompt, type AskOptions } from "./agent.js";
import type { Candidate } from "./coder.js";
import type { PublicTask } from "./public-task.js";

const SYSTEM = `You are the Debugger in a team of coding agents. You get a Python function and the
output of the tests it fails. Find the cause and answer with the complete fixed function (signature
included) and any helpers or imports, in one \`\`\`python block. Tests may themselves be wrong: trust
the docstring over a test that contradicts it.`;

export interface DebuggerInput {
  task: PublicTask;
  completion: string;
  /** The failing tests' output: visible examples and the Tester's tests only. */
  failures: string;
  plan?: string;
  guidance?: string;
}

export async function runDebugger(backend: ModelBackend, input: DebuggerInput, options?: AskOptions): Promise<Candidate> {
  const parts = [
    `The function:\n\n${fencedPrompt(candidateProgram(input.task, input.completion))}`,
    `Failing tests:\n${input.failures}`,
  ];
  if (input.plan) parts.push(`The Planner's specification:\n${input.plan}`);
  if (input.guidance) parts.push(`Guidance from a reviewer:\n${input.guidance}`);
  const call = await ask(backend, "Debugger", SYSTEM, parts.join("\n\n"), options);
  return { completion: await sanitizeCompletion(call.response.text, input.task), call };
}
