import { z } from "zod";
import type { ModelBackend } from "../src/llm/types.js";
import { ask, candidateProgram, fencedPrompt, type AgentCall, type AskOptions } from "./agent.js";
import type { PublicTask } from "./public-task.js";

const SYSTEM = `You are the Reviewer in a team of coding agents. You judge whether a Python function
meets its specification, reading the code and its test results. Answer with ACCEPT or REJECT on the
first line, then at most 120 words: what is wrong and how to fix it (or why it is right).`;

/**
 * The verdict as JSON, for backends that can hold an answer to a schema (llama: a grammar);
 * the others answer in the text form the system prompt asks for, and both parse.
 */
const REVIEW_SCHEMA = {
  type: "object",
  properties: { verdict: { type: "string", enum: ["ACCEPT", "REJECT"] }, feedback: { type: "string" } },
  required: ["verdict", "feedback"],
} as const;
const ReviewJson = z.object({ verdict: z.enum(["ACCEPT", "REJECT"]), feedback: z.string() });

export interface Review {
  accept: boolean;
  /** The reasons: used as guidance for the next Coder or Debugger. */
  feedback: string;
  call: AgentCall;
}

export async function runReviewer(
  backend: ModelBackend,
  task: PublicTask,
  completion: string,
  testReport: string,
  options?: AskOptions,
): Promise<Review> {
  const user = `The function:\n\n${fencedPrompt(candidateProgram(task, completion))}\n\nTest results:\n${testReport}`;
  const call = await ask(backend, "Reviewer", SYSTEM, user, { ...options, responseSchema: { ...REVIEW_SCHEMA } });
  return { ...parseReview(call.response.text), call };
}

/** A review that names neither word is not an acceptance: a candidate must be accepted explicitly. */
export function parseReview(text: string): { accept: boolean; feedback: string } {
  const trimmed = text.trim();
  const json = trimmed.startsWith("{") ? ReviewJson.safeParse(parseJson(trimmed)) : undefined;
  if (json?.success) return { accept: json.data.verdict === "ACCEPT", feedback: json.data.feedback.trim() || json.data.verdict };
  const firstLine = trimmed.split("\n", 1)[0]!.toUpperCase();
  const accept = firstLine.includes("ACCEPT") && !firstLine.includes("REJECT");
  return { accept, feedback: trimmed.slice(firstLine.length).trim() || trimmed };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
