import type { ChatResponse, ModelBackend } from "../src/llm/types.js";

export type AgentRole = "Planner" | "Coder" | "Tester" | "Debugger" | "Reviewer";
export const AGENT_ROLES: readonly AgentRole[] = ["Planner", "Coder", "Tester", "Debugger", "Reviewer"];

/** One model call made by an agent: what the orchestrator records as a step. */
export interface AgentCall {
  role: AgentRole;
  model: string;
  prompt: string;
  response: ChatResponse;
}

export interface AskOptions {
  temperature?: number;
  maxTokens?: number;
  /** Tells parallel trajectories apart, so record/replay keeps them distinct. */
  seed?: number;
  /** The answer's JSON Schema, for a role whose answer is a structured verdict (see ChatRequest). */
  responseSchema?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Sends one system + user exchange for a role and returns the call for the record. */
export async function ask(
  backend: ModelBackend,
  role: AgentRole,
  system: string,
  user: string,
  options: AskOptions = {},
): Promise<AgentCall> {
  const response = await backend.chat({
    messages: [
      { role: "system", content: system },
      { role: "user", content: user },
    ],
    temperature: options.temperature ?? 0,
    maxTokens: options.maxTokens ?? 2048,
    seed: options.seed,
    responseSchema: options.responseSchema,
    signal: options.signal,
  });
  return { role, model: backend.model, prompt: `${system}\n\n${user}`, response };
}

/** The function stub as a fenced block: every role sees the task the same way. */
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
