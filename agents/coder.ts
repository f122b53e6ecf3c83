import type { ModelBackend } from "../src/llm/types.js";
import { sanitizeCompletion } from "../src/evaluation/sanitize.js";
import { ask, candidateProgram, fencedPrompt, type AgentCall, type AskOptions } from "./agent.js";
import type { PublicTask } from "./public-task.js";

const SYSTEM = `You are the Coder in a team of coding agents. You write correct, plain Python 3
using only the standard library. Answer with the complete function (signature included) and any
helpers or imports it needs, in one \`\`\`python block. No example usage, no prints, no tests.`;

export interface Candidate {
  /** What follows the prompt: prompt + completion is the program under test. */
  completion: string;
  call: AgentCall;
}

export interface CoderInput {
  task: PublicTask;
  plan?: string;
  /** Advice from a stronger model at a checkpoint. */
  guidance?: string;
  /** The best attempt so far (a cheaper rung's) and its test report: escalated work starts from it. */
  previous?: { completion: string; testReport: string };
}

/** The standard HumanEval request when there is no plan: the zero-shot protocol. */
export async function runCoder(backend: ModelBackend, input: CoderInput, options?: AskOptions): Promise<Candidate> {
  const parts = [`Complete the following Python function:\n\n${fencedPrompt(input.task.prompt)}`];
  if (input.plan) parts.push(`Plan from the Planner:\n${input.plan}`);
  if (input.guidance) parts.push(`Guidance from a reviewer:\n${input.guidance}`);
  if (input.previous) {
    parts.push(`The best attempt so far:\n${fencedPrompt(candidateProgram(input.task, input.previous.completion))}`, `Its test results:\n${input.previous.testReport}`, "Write a version that passes.");
  }
  const call = await ask(backend, "Coder", SYSTEM, parts.join("\n\n"), options);
  return { completion: await sanitizeCompletion(call.response.text, input.task), call };
}

/** Deep mode's last resort: one program that takes the best of the two best candidates. */
export async function runHybridCoder(
  backend: ModelBackend,
  task: PublicTask,
  best: [string, string],
  testReport: string,
  options?: AskOptions,
): Promise<Candidate> {
  const user = [
    `Complete the following Python function:\n\n${fencedPrompt(task.prompt)}`,
    `Two candidates passed the most tests. Candidate A:\n${fencedPrompt(candidateProgram(task, best[0]))}`,
    `Candidate B:\n${fencedPrompt(candidateProgram(task, best[1]))}`,
    `Test results:\n${testReport}`,
    "Write one function that combines what each gets right.",
  ].join("\n\n");
  const call = await ask(backend, "Coder", SYSTEM, user, options);
  return { completion: await sanitizeCompletion(call.response.text, task), call };
}
