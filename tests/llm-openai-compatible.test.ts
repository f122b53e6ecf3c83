import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBackend, type CreateBackendOptions } from "../src/llm/index.js";
import type { RetryEvent } from "../src/llm/resilience.js";
import { failureOf } from "./helpers/failure.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setScript(() => ({ text: "ok" }));
});

// Fast backoff so retry tests take milliseconds; Retry-After still decides when the server sends one.
const FAST: CreateBackendOptions = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };

function backend(options: CreateBackendOptions = {}) {
  return createBackend(`openai-compatible:scripted-model@${server.openaiBaseUrl}`, { ...FAST, ...options });
}

const user = (content: string) => [{ role: "user" as const, content }];

describe("OpenAI-compatible backend through the openai client", () => {
  it("returns the text, token usage and koderz's model name", async () => {
    server.setScript([{ text: "def add(a, b):\n    return a + b", usage: { input: 12, output: 9 } }]);
    const response = await backend().chat({ messages: user("write add"), temperature: 0.2, maxTokens: 100, seed: 7 });
    expect(response.text).toBe("def add(a, b):\n    return a + b");
    expect(response.usage).toEqual({ input: 12, output: 9 });
    expect(response.model).toBe(`openai-compatible:scripted-model@${server.openaiBaseUrl}`);
    expect(response.cached).toBe(false);
    expect(response.timeToFirstTokenMs).toBeUndefined();
    const sent = server.chatRequests[0]!;
    expect(sent.model).toBe("scripted-model");
    expect(sent).toMatchObject({ temperature: 0.2, maxTokens: 100, seed: 7, stream: false });
  });

  it("sends tools and returns the model's tool calls with parsed arguments", async () => {
    server.setScript([{ toolCalls: [{ id: "call_1", name: "run_tests", arguments: { code: "x = 1", timeout: 5 } }] }]);
    const response = await backend().chat({
      messages: user("test it"),
      tools: [{ name: "run_tests", description: "Runs the tests", parameters: { type: "object", properties: { code: { type: "string" } } } }],
    });
    expect(response.toolCalls).toEqual([{ id: "call_1", name: "run_tests", arguments: { code: "x = 1", timeout: 5 } }]);
    expect(server.chatRequests[0]!.tools).toEqual([
      { name: "run_tests", description: "Runs the tests", parameters: { type: "object", properties: { code: { type: "string" } } } },
    ]);
  });

  it("hands back broken tool-call JSON as text with the reason, instead of crashing", async () => {
    server.setScript([{ toolCalls: [{ id: "call_1", name: "run_tests", rawArguments: '{"code": "x = 1"' }] }]);
    const [call] = (await backend().chat({ messages: user("test it") })).toolCalls;
    expect(call!.arguments).toBe('{"code": "x = 1"');
    expect(call!.argumentsError).toMatch(/not valid JSON/);
  });

  it("sends a tool conversation back in the wire format, broken arguments verbatim", async () => {
    await backend().chat({
      messages: [
        { role: "user", content: "test it" },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "run_tests", arguments: "{oops", argumentsError: "bad" }] },
        { role: "tool", content: "your arguments were not JSON", toolCallId: "c1" },
      ],
    });
    const [, assistant, tool] = server.chatRequests[0]!.messages;
    expect(assistant!.toolCalls).toEqual([{ id: "c1", name: "run_tests", arguments: "{oops" }]);
    expect(tool).toMatchObject({ role: "tool", toolCallId: "c1", content: "your arguments were not JSON" });
  });

  it("streams: assembles the text and tool calls, measures time to first token, and reads usage from the last chunk", async () => {
    server.setScript([
      { text: "one two three four five six", toolCalls: [{ name: "submit", arguments: { answer: 42 } }], usage: { input: 30, output: 11 } },
    ]);
    const response = await backend().chat({ messages: user("count"), stream: true });
    expect(response.text).toBe("one two three four five six");
    expect(response.toolCalls).toEqual([{ id: "call_scripted_0", name: "submit", arguments: { answer: 42 } }]);
    expect(response.usage).toEqual({ input: 30, output: 11 });
    expect(response.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(response.timeToFirstTokenMs).toBeLessThanOrEqual(response.latencyMs);
    expect(server.chatRequests[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  it("retries a 429, waiting what Retry-After (seconds) says, then succeeds", async () => {
    server.setScript([{ error: 429, retryAfter: "0" }, { text: "after the wait" }]);
    const retries: RetryEvent[] = [];
    // Backoff alone would wait at least 5 s here: a 0 ms wait proves Retry-After decided it.
    const response = await backend({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 }, onRetry: (event) => retries.push(event) }).chat({
      messages: user("hi"),
    });
    expect(response.text).toBe("after the wait");
    expect(server.chatRequests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.failure.kind).toBe("rate_limited");
    expect(retries[0]!.delayMs).toBe(0);
  });

  it("honours retry-after-ms", async () => {
    server.setScript([{ error: 429, retryAfterMs: 20 }, { text: "ok" }]);
    const retries: RetryEvent[] = [];
    await backend({ onRetry: (event) => retries.push(event) }).chat({ messages: user("hi") });
    expect(retries.map((event) => event.delayMs)).toEqual([20]);
  });

  it("fails clearly when Retry-After asks for longer than koderz waits", async () => {
    server.setScript([{ error: 429, retryAfter: "3600" }]);
    const error = await failureOf(backend().chat({ messages: user("hi") }));
    expect(error.code).toBe("model_error");
    expect(error.message).toMatch(/asks to wait 3600 s/);
    expect(error.hint).toMatch(/concurrency/);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("retries 500s with backoff and succeeds", async () => {
    server.setScript([{ error: 500 }, { error: 503 }, { text: "third time" }]);
    const response = await backend().chat({ messages: user("hi") });
    expect(response.text).toBe("third time");
    expect(server.chatRequests).toHaveLength(3);
  });

  it("retries when the connection drops mid-stream, and when it drops before any answer", async () => {
    server.setScript([{ text: "a b c d e f", dropAfterChunks: 2 }, { text: "x", dropAfterChunks: 0 }, { text: "whole" }]);
    const retries: RetryEvent[] = [];
    const response = await backend({ onRetry: (event) => retries.push(event) }).chat({ messages: user("hi"), stream: true });
    expect(response.text).toBe("whole");
    expect(retries.map((event) => event.failure.kind)).toEqual(["connection", "connection"]);
  });

  it("gives up after maxAttempts with one error saying how many attempts were made", async () => {
    server.setScript(() => ({ error: 502, message: "bad gateway" }));
    const error = await failureOf(backend({ maxAttempts: 3 }).chat({ messages: user("hi") }));
    expect(error.code).toBe("model_error");
    expect(error.message).toMatch(/after 3 attempts/);
    expect(error.message).toMatch(/bad gateway/);
    expect(server.chatRequests).toHaveLength(3);
  });

  it("does not retry a 401: one request, and an error naming the key to check", async () => {
    server.setScript([{ error: 401, message: "Incorrect API key provided" }]);
    const backendWithKey = createBackend("kimi-k2", { ...FAST, baseUrl: server.openaiBaseUrl, env: { MOONSHOT_API_KEY: "wrong" } });
    const error = await failureOf(backendWithKey.chat({ messages: user("hi") }));
    expect(server.chatRequests).toHaveLength(1);
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/Incorrect API key/);
    expect(error.hint).toMatch(/MOONSHOT_API_KEY/);
  });

  it("does not retry a 404 for an unknown model, and says how to find the right name", async () => {
    const strict = await startScriptedModelServer({ models: ["real-model"] });
    try {
      const error = await failureOf(
        createBackend(`openai-compatible:no-such-model@${strict.openaiBaseUrl}`, FAST).chat({ messages: user("hi") }),
      );
      expect(strict.chatRequests).toHaveLength(1);
      expect(error.code).toBe("model_unavailable");
      expect(error.hint).toMatch(/no-such-model/);
    } finally {
      await strict.close();
    }
  });

  it("times out a slow answer, retries it, and reports the timeout", async () => {
    server.setScript(() => ({ text: "too late", delayMs: 5_000 }));
    const error = await failureOf(backend({ timeoutMs: 100, maxAttempts: 2 }).chat({ messages: user("hi") }));
    expect(error.code).toBe("model_error");
    expect(error.message).toMatch(/no complete answer within 100 ms/);
    expect(server.chatRequests).toHaveLength(2);
  });

  it("times out a stream that stalls between chunks", async () => {
    server.setScript(() => ({ text: "a b c d e f g h", chunkDelayMs: 2_000 }));
    const error = await failureOf(backend({ timeoutMs: 100, maxAttempts: 1 }).chat({ messages: user("hi"), stream: true }));
    expect(error.message).toMatch(/no complete answer within 100 ms/);
  });

  it("reports a body that is not JSON as a clear error, without retrying", async () => {
    server.setScript([{ malformed: "not-json" }]);
    const error = await failureOf(backend().chat({ messages: user("hi") }));
    expect(error.code).toBe("model_error");
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.hint).toMatch(/OpenAI chat completions/);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("reports JSON that is not a chat completion as a clear error", async () => {
    server.setScript([{ malformed: "wrong-shape" }]);
    const error = await failureOf(backend().chat({ messages: user("hi") }));
    expect(error.message).toMatch(/not a chat completion \(choices/);
  });

  it("reports a broken stream as a clear error", async () => {
    server.setScript([{ malformed: "wrong-shape" }]);
    const error = await failureOf(backend().chat({ messages: user("hi"), stream: true }));
    expect(error.message).toMatch(/not a chat completion chunk/);
  });

  it("reports a stream cut off mid-JSON as a clear error", async () => {
    server.setScript([{ malformed: "not-json" }]);
    const error = await failureOf(backend().chat({ messages: user("hi"), stream: true }));
    expect(error.message).toMatch(/not valid JSON/);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("never has more calls in flight than its concurrency limit", async () => {
    server.setScript(() => ({ text: "ok", delayMs: 30 }));
    const limited = backend({ concurrency: 2 });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => limited.chat({ messages: user(`call ${index}`) })));
    expect(answers).toHaveLength(8);
    expect(server.chatRequests).toHaveLength(8);
    expect(server.maxInFlight).toBe(2);
  });

  it("stops at once when the caller cancels", async () => {
    server.setScript(() => ({ text: "slow", delayMs: 5_000 }));
    const controller = new AbortController();
    const pending = backend().chat({ messages: user("hi"), signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await failureOf(pending);
    expect(error.code).toBe("interrupted");
  });

  it("computes cost from the registry's prices", async () => {
    server.setScript([{ text: "ok", usage: { input: 1_000_000, output: 200_000 } }]);
    // kimi-k2 costs $0.60 per 1M input and $2.50 per 1M output tokens.
    const kimi = createBackend("kimi-k2", { ...FAST, baseUrl: server.openaiBaseUrl, env: { MOONSHOT_API_KEY: "sk-test" } });
    const response = await kimi.chat({ messages: user("hi") });
    expect(response.costUsd).toBeCloseTo(0.6 + 0.5, 10);
    expect(server.chatRequests[0]!.model).toBe("kimi-k2-0905-preview");
    expect(server.chatRequests[0]!.headers.authorization).toBe("Bearer sk-test");
  });
});
