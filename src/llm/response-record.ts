import type { ChatResponse } from "./types.js";

const FORMAT_NAMES = { "qwen3-xml": "Qwen3-Coder's XML form", hermes: "Hermes JSON" } as const;

/**
 * An answer as a trajectory stores it: the model's reasoning first (kept, never parsed), then
 * its answer, then what koderz noticed about it, so a reader of the run sees why a step went as
 * it did (a cut-off answer is not a wrong one). An answer with nothing to note stays its text.
 */
export function responseForTheRecord(response: Pick<ChatResponse, "text" | "reasoning" | "stopReason" | "usageEstimated" | "toolCallsFromText">): string {
  const notes = answerNotes(response);
  if (!response.reasoning && notes.length === 0) return response.text;
  const parts = [];
  if (response.reasoning) parts.push(`[reasoning]\n${response.reasoning}\n[answer]`);
  parts.push(response.text);
  parts.push(...notes.map((note) => `[koderz: ${note}]`));
  return parts.filter(Boolean).join("\n");
}

const CUT_OFF_NOTE = "the answer stopped at the token limit (finish reason \"length\"): it is incomplete";

/** Whether a stored response (responseForTheRecord's text) was cut at the token limit. */
export function wasCutOff(storedResponse: string | undefined): boolean {
  return storedResponse?.includes(`[koderz: ${CUT_OFF_NOTE}]`) ?? false;
}

/** What koderz noticed about an answer, one short sentence each. */
export function answerNotes(response: Pick<ChatResponse, "stopReason" | "usageEstimated" | "toolCallsFromText">): string[] {
  const notes: string[] = [];
  if (response.stopReason === "length") notes.push(CUT_OFF_NOTE);
  if (response.toolCallsFromText) notes.push(`tool calls read from the text (${FORMAT_NAMES[response.toolCallsFromText]}): the server's tool parser is off`);
  if (response.usageEstimated) notes.push("token counts estimated: the server reported none");
  return notes;
}
