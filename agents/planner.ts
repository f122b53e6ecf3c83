import type { ModelBackend } from "../src/llm/types.js";
import { ask, fencedPrompt, type AgentCall, type AskOptions } from "./agent.js";
import type { PublicTask } from "./public-task.js";

const SYSTEM = `You are the Planner in a team of coding agents. You do not write the code.
You read a Python function's signature and docstring and write a short specification and plan:
the exact input/output contract, edge cases the docstring implies, and the algorithm in 3-6 steps.
Be concise: at most 200 words.`;

export interface Plan {
  plan: string;
  call: AgentCall;
}

export async function runPlanner(backend: ModelBackend, task: PublicTask, options?: AskOptions): Promise<Plan> {
  const user = `Write the specification and plan for \`${task.entryPoint}\`:\n\n${fencedPrompt(task.prompt)}`;
  const call = await ask(backend, "Planner", SYSTEM, user, options);
  return { plan: call.response.text.trim(), call };
}
