import { readPackageFile } from "../src/package-file.js";
import type { ChatResponse } from "../src/llm/types.js";
import type { RepoTool } from "./tools/tool.js";

/** The five agents of a team, in the order a mode's script would call them. */
export const AGENTS = ["Planner", "Coder", "Tester", "Debugger", "Reviewer"] as const;
export type Agent = (typeof AGENTS)[number];

/**
 * One agent on one product: its prompt (a data file in agents/prompts/), the message it builds
 * from the team's shared state, and what it reads from its answer. The same loop (run-agent.ts)
 * runs every spec; each agent's file (planner.ts ... reviewer.ts) holds its spec for both products
 * (policy/mode-spec.ts's Product: `humaneval` and `repository`).
 */
export interface AgentSpec<State, Output> {
  agent: Agent;
  /** The system prompt; read from agents/prompts/ on first use. */
  system(): string;
  /** The user message, from the shared state. */
  message(state: State): string;
  /** What the team keeps from the agent's last answer. */
  parse(answer: string, state: State): Output | Promise<Output>;
  /** The answer's JSON Schema, for an agent whose answer is a structured verdict (see ChatRequest). */
  responseSchema?: Record<string, unknown>;
  /** Tools the agent may call until it answers without one; none: its first answer ends its turn. */
  tools?: readonly RepoTool[];
}

/** One model call made by an agent: what the orchestrator records as a step. */
export interface AgentCall {
  agent: Agent;
  model: string;
  prompt: string;
  response: ChatResponse;
}

/**
 * A system prompt from agents/prompts/<name>.md, read once (from source or from dist/, see
 * packageFilePath), with `also` appended on its own line (rules several prompts share).
 */
export function promptFile(name: string, ...also: string[]): () => string {
  return () => [name, ...also].map((file) => readPackageFile(import.meta.url, `./prompts/${file}.md`).trimEnd()).join("\n");
}
