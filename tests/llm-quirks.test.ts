import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseReview } from "../agents/reviewer.js";
import { KoderzError } from "../src/errors.js";
import { sanitizeCompletion } from "../src/evaluation/sanitize.js";
import { contextLimitIn, createBackend, readTextToolCalls, responseForTheRecord, splitReasoning, type ChatRequest, type CreateBackendOptions, type ToolSpec } from "../src/llm/index.js";
import { contextLimited, DECOY_REASONING, hermesCall, qwen3XmlCall, rateLimitedFirst, withQuirk, type Quirk } from "./fixtures/model-quirks.js";
import { startScriptedModelServer, type ScriptedModelServer, type ScriptedReply } from "./fixtures/scripted-model-server.js";

// Each quirk's wire format, and the documentation it follows, is in tests/fixtures/model-quirks.ts
// (vLLM's reasoning outputs and tool parsers, Ollama's thinking field, Moonshot's errors). Every
// case here goes through the real `openai` or `ollama` client to the scripted server.

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

const FAST: CreateBackendOptions = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const FORMATS = ["openai", "ollama"] as const;
type Format = (typeof FORMATS)[number];

function backend(format: Format, options: CreateBackendOptions = {}) {
  return format === "openai"
    ? createBackend(`openai-compatible:scripted-model@${server.openaiBaseUrl}`, { ...FAST, ...options })
    : createBackend("ollama:scripted-model", { ...FAST, baseUrl: server.ollamaHost, ...options });
}

const CODE = "```python\ndef add(a, b):\n    return a + b\n```";
const TASK = { prompt: "def add(a, b):\n", entryPoint: "add" };
const codeRequest: ChatRequest = { messages: [{ role: "user", content: "Complete add(a, b)." }], maxTokens: 200 };
const READ_TOOL: ToolSpec = { name: "read_file", description: "read a file", parameters: { type: "object", properties: { path: { type: "string" } } } };
const toolRequest: ChatRequest = { messages: [{ role: "user", content: "Read README.md" }], tools: [READ_TOOL], maxTokens: 200 };

function scripted(quirk: Quirk, reply: ScriptedReply): void {
  server.setScript(withQuirk(quirk, () => reply));
}

describe.each(FORMATS)("thinking models through the %s client", (format) => {
  const quirks: Quirk[] = format === "openai" ? ["think-tags", "think-close-only", "reasoning-field", "reasoning-field-renamed"] : ["think-tags", "think-close-only", "reasoning-field"];
  it.each(quirks)("%s: the reasoning is kept apart and counted, and the sanitizer sees only the answer", async (quirk) => {
    for (const stream of [false, true]) {
      scripted(quirk, { text: CODE });
      const response = await backend(format).chat({ ...codeRequest, stream });
      expect(response.reasoning, `stream ${stream}`).toContain("koderz_reasoning_must_not_be_code");
      expect(response.text).toBe(CODE);
      expect(response.toolCalls).toEqual([]);
      // The reasoning's tokens are part of what the answer cost.
      expect(response.usage.output).toBeGreaterThanOrEqual(Math.ceil((DECOY_REASONING.length + CODE.length) / 4) - 2);
      const completion = await sanitizeCompletion(response.text, TASK);
      expect(completion).toContain("return a + b");
      expect(completion).not.toContain("koderz_reasoning_must_not_be_code");
      expect(responseForTheRecord(response)).toContain("[reasoning]\n");
    }
  });

  it("a tool-call lookalike in the reasoning is never taken for a call", async () => {
    scripted("think-tags", { text: "I need nothing else; the answer is 3." });
    const response = await backend(format).chat(toolRequest);
    expect(response.toolCalls).toEqual([]);
    expect(response.toolCallsFromText).toBeUndefined();
    expect(response.text).toBe("I need nothing else; the answer is 3.");
  });

  it.each(["qwen3-xml-tools", "hermes-tools"] as const)("%s: tool calls written as text are read, and the answer says so", async (quirk) => {
    for (const stream of [false, true]) {
      scripted(quirk, { text: "Let me look.", toolCalls: [{ name: "read_file", arguments: { path: "src/a b.py" } }] });
      const response = await backend(format).chat({ ...toolRequest, stream });
      expect(response.toolCalls).toMatchObject([{ name: "read_file", arguments: { path: "src/a b.py" } }]);
      expect(response.toolCallsFromText).toBe(quirk === "qwen3-xml-tools" ? "qwen3-xml" : "hermes");
      expect(response.text).toBe("Let me look.");
      expect(responseForTheRecord(response)).toMatch(/tool calls read from the text .*tool parser is off/);
    }
  });

  it("no usage block: tokens are estimated and marked, never 0", async () => {
    for (const stream of [false, true]) {
      scripted("no-usage", { text: CODE });
      const response = await backend(format).chat({ ...codeRequest, stream });
      expect(response.usageEstimated, `stream ${stream}`).toBe(true);
      expect(response.usage.input).toBeGreaterThan(0);
      expect(response.usage.output).toBe(Math.ceil(CODE.length / 4));
      expect(responseForTheRecord(response)).toContain("token counts estimated");
    }
  });

  it("a length stop is recorded as such", async () => {
    for (const stream of [false, true]) {
      scripted("length-stop", { text: CODE });
      const response = await backend(format).chat({ ...codeRequest, stream });
      expect(response.stopReason).toBe("length");
      expect(response.text.length).toBeLessThan(CODE.length);
      expect(responseForTheRecord(response)).toContain('stopped at the token limit (finish reason "length")');
    }
  });

  it("a plain answer has none of the marks", async () => {
    server.setScript([{ text: CODE }]);
    const response = await backend(format).chat(codeRequest);
    expect(response).not.toHaveProperty("reasoning");
    expect(response).not.toHaveProperty("usageEstimated");
    expect(response.stopReason).toBe("stop");
    expect(responseForTheRecord(response)).toBe(CODE);
  });

  it.each([undefined, 1])("429 with Retry-After %s: koderz waits and retries", async (retryAfter) => {
    server.setScript(rateLimitedFirst(2, retryAfter, () => ({ text: "ok" })));
    const events: number[] = [];
    const response = await backend(format, { onRetry: (event) => events.push(event.delayMs) }).chat(codeRequest);
    expect(response.text).toBe("ok");
    expect(server.chatRequests).toHaveLength(3);
    if (retryAfter === undefined) for (const delay of events) expect(delay).toBeLessThanOrEqual(5);
    else expect(events).toEqual([1000, 1000]);
  });
});

describe("context-length errors as each server words them", () => {
  it.each(["vllm", "moonshot"] as const)("%s: one clear error, not retried, naming the limit", async (wording) => {
    server.setScript(contextLimited(100, wording, () => ({ text: "ok" })));
    const error = await backend("openai")
      .chat({ messages: [{ role: "user", content: "x ".repeat(400) }], maxTokens: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KoderzError);
    expect((error as KoderzError).message).toContain("do not fit its 100-token context");
    expect((error as KoderzError).hint).toContain("--max-model-len");
    expect(server.chatRequests).toHaveLength(1);
  });

  it("Ollama's wording is recognised too", async () => {
    server.setScript([{ error: 500, message: "the input length exceeds the context length" }]);
    const error = await backend("ollama").chat(codeRequest).catch((e: unknown) => e);
    expect((error as KoderzError).message).toContain("do not fit its context");
    expect((error as KoderzError).hint).toContain('"contextLength"');
    expect(server.chatRequests).toHaveLength(1);
  });

  it("reads the limit from each wording", () => {
    expect(contextLimitIn("This model's maximum context length is 32768 tokens. However, you requested 40000 tokens")).toEqual({ limit: 32768 });
    expect(contextLimitIn("Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)")).toEqual({ limit: 262144 });
    expect(contextLimitIn("The prompt (total length 25938) is too long to fit into the model (context length 4096).")).toEqual({ limit: 4096 });
    expect(contextLimitIn("the input length exceeds the context length")).toEqual({});
    expect(contextLimitIn("Rate limit reached")).toBeUndefined();
  });
});

describe("reading answers", () => {
  it("splits <think> blocks however they come", () => {
    expect(splitReasoning("<think>a</think>\n\nB")).toEqual({ text: "B", reasoning: "a" });
    expect(splitReasoning("a\n</think>\nB")).toEqual({ text: "B", reasoning: "a" });
    expect(splitReasoning("B<think>cut off while thin")).toEqual({ text: "B", reasoning: "cut off while thin" });
    expect(splitReasoning("no tags here")).toEqual({ text: "no tags here", reasoning: "" });
  });

  it("reads both text tool-call forms, typed values included", () => {
    const xml = qwen3XmlCall({ name: "edit", arguments: { path: "a.py", start_line: 3, text: "x = 1\n\ny = 2" } });
    expect(readTextToolCalls(xml).toolCalls).toMatchObject([{ name: "edit", arguments: { path: "a.py", start_line: 3, text: "x = 1\n\ny = 2" } }]);
    const hermes = hermesCall({ name: "search", arguments: { pattern: "def (" } });
    expect(readTextToolCalls(`${hermes}\n${hermes}`).toolCalls).toHaveLength(2);
  });

  it("a text tool call koderz cannot read fails the step with what to change on the server", () => {
    expect(() => readTextToolCalls("<tool_call>call read_file please</tool_call>")).toThrow(/neither Qwen3-Coder's XML form nor Hermes JSON/);
    expect(() => readTextToolCalls('<tool_call>{"name": "read_file", "argu', true)).toThrow(/cut off at the token limit/);
    try {
      readTextToolCalls("<tool_call>??</tool_call>");
    } catch (error) {
      expect((error as KoderzError).hint).toContain("--tool-call-parser");
    }
  });

  it("a Hermes call with broken arguments reaches the model as its mistake, not a crash", () => {
    const [call] = readTextToolCalls('<tool_call>{"name": "read_file", "arguments": {"path": "a.py"</tool_call>').toolCalls;
    expect(call).toMatchObject({ name: "read_file" });
    expect(call!.argumentsError).toMatch(/not valid JSON/);
  });

  it("the Reviewer's JSON verdict is read from a fence when the server ignored the schema", () => {
    expect(parseReview('Here it is:\n```json\n{"verdict": "ACCEPT", "feedback": "fine"}\n```')).toEqual({ accept: true, feedback: "fine" });
    expect(parseReview('{"verdict": "REJECT", "feedback": "off by one"}')).toEqual({ accept: false, feedback: "off by one" });
    expect(parseReview("ACCEPT\nlooks right").accept).toBe(true);
  });
});
