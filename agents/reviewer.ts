import { z } from "zod";
import type { AgentSpec } from "./agent.js";
import { promptFile } from "./agent.js";
import { candidateOf, candidateProgram, fencedPrompt, issueSection, type FunctionTaskState, type IssueState } from "./team-state.js";
import { READ_TOOLS } from "./tools/index.js";

/** The Reviewer's verdict; a rejection's reasons guide the next Coder or Debugger. */
export interface Review {
  accept: boolean;
  feedback: string;
}

/**
 * The verdict as JSON, for backends that can hold an answer to a schema (llama: a grammar);
 * the others answer in the text form the system prompt asks for, and both parse.
 */
const REVIEW_SCHEMA = {
  type: "object",
  properties: { verdict: { type: "string", enum: ["ACCEPT", "REJECT"] }, feedback: { type: "string" } },
  required: ["verdict", "feedback"],
};
const ReviewJson = z.object({ verdict: z.enum(["ACCEPT", "REJECT"]), feedback: z.string() });

/** The Reviewer judges the candidate (or the change) with its test results; it never edits. */
export const REVIEWER = {
  humaneval: {
    agent: "Reviewer",
    system: promptFile("reviewer.humaneval"),
    message: (state) => {
      const candidate = candidateOf(state);
      return `The function:\n\n${fencedPrompt(candidateProgram(state.task, candidate.completion))}\n\nTest results:\n${candidate.testReport}`;
    },
    parse: (answer) => parseReview(answer),
    responseSchema: REVIEW_SCHEMA,
  } satisfies AgentSpec<FunctionTaskState, Review>,

  /** It may read files for context (read-only tools). */
  repository: {
    agent: "Reviewer",
    system: promptFile("reviewer.repository"),
    tools: READ_TOOLS,
    message: ({ issue, diff, testReport }) =>
      `${issueSection(issue)}\n\nThe change:\n\`\`\`diff\n${diff || "(empty: nothing was changed)"}\n\`\`\`\n\nThe test run after the change:\n${testReport ?? ""}`,
    parse: (answer) => parseReview(answer),
  } satisfies AgentSpec<IssueState, Review>,
};

/** A review that names neither word is not an acceptance: a candidate must be accepted explicitly. */
export function parseReview(text: string): Review {
  const trimmed = text.trim();
  // The JSON verdict bare, or in a fence after a sentence: servers that ignore the schema still often write it.
  const json = jsonVerdictIn(trimmed);
  if (json) return { accept: json.verdict === "ACCEPT", feedback: json.feedback.trim() || json.verdict };
  const firstLine = trimmed.split("\n", 1)[0]!.toUpperCase();
  const accept = firstLine.includes("ACCEPT") && !firstLine.includes("REJECT");
  return { accept, feedback: trimmed.slice(firstLine.length).trim() || trimmed };
}

function jsonVerdictIn(text: string): z.infer<typeof ReviewJson> | undefined {
  const fenced = /```(?:json)?\s*\n(\{[\s\S]*?\})\s*```/.exec(text)?.[1];
  for (const candidate of [text.startsWith("{") ? text : undefined, fenced]) {
    const parsed = candidate === undefined ? undefined : ReviewJson.safeParse(parseJson(candidate));
    if (parsed?.success) return parsed.data;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
