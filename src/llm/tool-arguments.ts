import type { ToolCall } from "./types.js";

/**
 * A model's tool-call arguments, parsed. Models do write broken JSON; that must not crash a
 * run, so the raw text comes back with `argumentsError` and the caller can tell the model.
 */
export function parseToolArguments(raw: string): Pick<ToolCall, "arguments" | "argumentsError"> {
  // Tools without parameters: models send "" or nothing at all.
  if (raw.trim() === "") return { arguments: {} };
  try {
    return { arguments: JSON.parse(raw) as unknown };
  } catch (error) {
    return { arguments: raw, argumentsError: `the arguments are not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The text to send back for an earlier call: broken arguments go back exactly as the model wrote them. */
export function serializeToolArguments(call: ToolCall): string {
  if (call.argumentsError !== undefined && typeof call.arguments === "string") return call.arguments;
  return JSON.stringify(call.arguments ?? {});
}
