import { KoderzError } from "../errors.js";
import { parseToolArguments } from "./tool-arguments.js";
import type { ChatRequest, TextToolCallFormat, TokenUsage, ToolCall } from "./types.js";

/**
 * What real model servers send that a tidy OpenAI answer does not, handled once for every
 * backend (managedBackend calls normalizeAnswer on each answer):
 *
 *  - thinking models' reasoning, either in the content between <think> and </think> (Qwen3,
 *    DeepSeek-R1 and Kimi K2 Thinking served without a reasoning parser; their chat templates
 *    often open the tag in the prompt, so only the closing tag appears), or in a field of its own
 *    (vLLM's `reasoning_content`, later `reasoning`; Moonshot's `reasoning_content`; Ollama's
 *    `message.thinking`). It is kept apart (`reasoning`) and counted, never read as the answer;
 *  - tool calls written as text when the server's tool parser is off: Qwen3-Coder's XML form
 *    `<tool_call><function=NAME><parameter=KEY>VALUE</parameter></function></tool_call>` and the
 *    Hermes form `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` (Qwen2.5/Qwen3,
 *    NousResearch Hermes). Read into tool calls and marked, or the call fails with a clear error;
 *  - no usage block (some servers, and streams without stream_options support): estimated and
 *    marked, never 0.
 */

/** An answer as a transport read it off the wire, before koderz tidies it. */
export interface RawAnswer {
  text: string;
  toolCalls: ToolCall[];
  /** Token counts as the server reported them; undefined when it sent none. */
  usage?: TokenUsage;
  /** The server's separate reasoning field, when it has one. */
  reasoning?: string;
  /** The server's finish_reason / done_reason, as sent. */
  finishReason?: string;
}

export interface NormalizedAnswer {
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  reasoning?: string;
  stopReason?: "stop" | "length" | "tool_calls" | "other";
  usageEstimated?: true;
  toolCallsFromText?: TextToolCallFormat;
}

export function normalizeAnswer(raw: RawAnswer, request: Pick<ChatRequest, "messages" | "tools">): NormalizedAnswer {
  const split = splitReasoning(raw.text);
  const reasoning = [raw.reasoning?.trim(), split.reasoning].filter((part): part is string => !!part).join("\n\n");
  let text = split.text;
  let toolCalls = raw.toolCalls;
  let toolCallsFromText: TextToolCallFormat | undefined;
  const stopReason = stopReasonOf(raw.finishReason);
  // Only when tools were offered: an answer that merely quotes the syntax is not a call.
  if (toolCalls.length === 0 && request.tools?.length && text.includes("<tool_call>")) {
    const read = readTextToolCalls(text, stopReason === "length");
    text = read.text;
    toolCalls = read.toolCalls;
    toolCallsFromText = read.format;
  }
  const answer: NormalizedAnswer = { text, toolCalls, usage: raw.usage ?? estimateUsage(request, { text: raw.text, reasoning: raw.reasoning ?? "", toolCalls: raw.toolCalls }) };
  if (reasoning) answer.reasoning = reasoning;
  if (stopReason) answer.stopReason = stopReason;
  if (!raw.usage) answer.usageEstimated = true;
  if (toolCallsFromText) answer.toolCallsFromText = toolCallsFromText;
  return answer;
}

function stopReasonOf(finishReason: string | undefined): NormalizedAnswer["stopReason"] {
  if (!finishReason) return undefined;
  if (finishReason === "stop" || finishReason === "length" || finishReason === "tool_calls") return finishReason;
  // OpenAI's older name for a tool call.
  if (finishReason === "function_call") return "tool_calls";
  return "other";
}

/**
 * The answer without its <think> blocks, and what they held. A closing tag with no opening one
 * means the template opened it in the prompt: everything before it is reasoning. An opening tag
 * that is never closed (the answer was cut while thinking) makes the rest reasoning.
 */
export function splitReasoning(content: string): { text: string; reasoning: string } {
  const parts: string[] = [];
  let text = content;
  const firstClose = text.indexOf("</think>");
  const firstOpen = text.indexOf("<think>");
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) {
    parts.push(text.slice(0, firstClose));
    text = text.slice(firstClose + "</think>".length);
  }
  text = text.replace(/<think>([\s\S]*?)<\/think>/g, (_, inner: string) => {
    parts.push(inner);
    return "";
  });
  const unclosed = text.indexOf("<think>");
  if (unclosed >= 0) {
    parts.push(text.slice(unclosed + "<think>".length));
    text = text.slice(0, unclosed);
  }
  const reasoning = parts.map((part) => part.trim()).filter(Boolean).join("\n\n");
  return { text: parts.length > 0 ? text.trim() : content, reasoning };
}

const TOOL_CALL_BLOCK = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g;

/**
 * Tool calls written in the content. Each block is Qwen3-Coder's XML form or Hermes JSON; a
 * block in neither form (or cut off) fails the call with what to change on the server, because
 * guessing at it could run a tool the model did not ask for.
 */
export function readTextToolCalls(content: string, cutAtLength = false): { text: string; toolCalls: ToolCall[]; format: TextToolCallFormat } {
  const toolCalls: ToolCall[] = [];
  const formats = new Set<TextToolCallFormat>();
  for (const match of content.matchAll(TOOL_CALL_BLOCK)) {
    const block = match[1]!.trim();
    const closed = match[0].endsWith("</tool_call>");
    const call = closed ? (readXmlCall(block) ?? readHermesCall(block)) : undefined;
    if (!call) throw unreadableToolCall(block, closed, cutAtLength);
    formats.add(call.format);
    toolCalls.push({ id: `call_text_${toolCalls.length}`, name: call.name, ...call.arguments });
  }
  const text = content.replace(TOOL_CALL_BLOCK, "").trim();
  return { text, toolCalls, format: formats.has("qwen3-xml") ? "qwen3-xml" : "hermes" };
}

type ReadCall = { format: TextToolCallFormat; name: string; arguments: Pick<ToolCall, "arguments" | "argumentsError"> };

function readXmlCall(block: string): ReadCall | undefined {
  const fn = /^<function=([^>\s]+)>([\s\S]*?)(?:<\/function>)?$/.exec(block);
  if (!fn) return undefined;
  const args: Record<string, unknown> = {};
  for (const parameter of fn[2]!.matchAll(/<parameter=([^>\s]+)>([\s\S]*?)<\/parameter>/g)) {
    args[parameter[1]!] = xmlParameterValue(parameter[2]!);
  }
  return { format: "qwen3-xml", name: fn[1]!, arguments: { arguments: args } };
}

/**
 * Qwen3-Coder writes each value as text, a newline either side. Text stays text (a file's
 * contents, a path); a value that is JSON other than a string (a number, a list) is read as
 * JSON, as vLLM's qwen3_coder parser does when the schema asks for it.
 */
function xmlParameterValue(raw: string): unknown {
  const value = raw.replace(/^\n/, "").replace(/\n$/, "");
  const trimmed = value.trim();
  if (/^(-?\d+(\.\d+)?|true|false|null|\[[\s\S]*\]|\{[\s\S]*\})$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

function readHermesCall(block: string): ReadCall | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(block);
  } catch {
    // The name alone, with broken arguments: the model is told, as for a native call's broken JSON.
    const name = /^\{\s*"name"\s*:\s*"([^"]+)"/.exec(block)?.[1];
    if (!name) return undefined;
    const rest = /"arguments"\s*:\s*([\s\S]*)$/.exec(block)?.[1]?.trim() ?? "";
    // The object's own closing brace may or may not be there; either way the arguments are what is left.
    const withoutOuter = rest.endsWith("}") ? parseToolArguments(rest.slice(0, -1)) : undefined;
    const args = withoutOuter && !withoutOuter.argumentsError ? withoutOuter : parseToolArguments(rest);
    return { format: "hermes", name, arguments: rest === "" ? { arguments: "", argumentsError: "the call has no arguments" } : args };
  }
  if (typeof parsed !== "object" || parsed === null || typeof (parsed as { name?: unknown }).name !== "string") return undefined;
  const call = parsed as { name: string; arguments?: unknown; parameters?: unknown };
  const args = call.arguments ?? call.parameters ?? {};
  return { format: "hermes", name: call.name, arguments: typeof args === "string" ? parseToolArguments(args) : { arguments: args } };
}

function unreadableToolCall(block: string, closed: boolean, cutAtLength: boolean): KoderzError {
  const shown = JSON.stringify(block.slice(0, 120));
  const why = !closed ? (cutAtLength ? "it was cut off at the token limit" : "it has no closing </tool_call>") : "it is neither Qwen3-Coder's XML form nor Hermes JSON";
  return new KoderzError(
    "model_error",
    `the model wrote a tool call as text that koderz cannot read (${why}): ${shown}`,
    "enable the server's tool parser so calls arrive as tool_calls: vLLM --enable-auto-tool-choice --tool-call-parser qwen3_coder (Qwen3-Coder) or hermes (Qwen2.5/Qwen3); with Ollama, use a model whose template supports tools",
  );
}

/**
 * About four characters a token: what an English-and-code tokenizer averages. Used only when
 * the server reported nothing, and marked so (usageEstimated), so a figure built on it says so.
 */
export function estimateTokens(text: string): number {
  return text === "" ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

function estimateUsage(request: Pick<ChatRequest, "messages" | "tools">, answer: { text: string; reasoning: string; toolCalls: ToolCall[] }): TokenUsage {
  const prompt = request.messages.map((message) => message.content + (message.toolCalls ? JSON.stringify(message.toolCalls) : "")).join("\n");
  const tools = request.tools?.length ? JSON.stringify(request.tools) : "";
  const output = answer.text + answer.reasoning + answer.toolCalls.map((call) => call.name + JSON.stringify(call.arguments)).join("");
  // Every answer costs at least a token: a count of 0 would read as "free".
  return { input: Math.max(1, estimateTokens(prompt + tools)), output: Math.max(1, estimateTokens(output)) };
}
