import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBackend, type CreateBackendOptions } from "../src/llm/index.js";
import type { RetryEvent } from "../src/llm/resilience.js";
import { failureOf } from "./helpers/failure.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer({ models: ["qwen3-coder:30b", "llama3:latest"] });
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  server.setScript(() => ({ text: "ok" }));
});

const FAST: CreateBackendOptions = { retry: { baseDelayMs: 1, maxDelayMs: 5 } };

function backend(options: CreateBackendOptions = {}) {
  return createBackend("ollama:qwen3-coder:30b", { ...FAST, baseUrl: server.ollamaHost, ...options });
}

const user = (content: string) => [{ role: "user" as const, content }];

describe("Ollama backend through the ollama client", () => {
  it("returns the text and usage from prompt_eval_count / eval_count, and costs nothing", async () => {
    server.setScript([{ text: "def add(a, b):\n    return a + b", usage: { input: 20, output: 8 } }]);
    const response = await backend().chat({ messages: user("write add"), temperature: 0, maxTokens: 64, seed: 3 });
    expect(response.text).toBe("def add(a, b):\n    return a + b");
    expect(response.usage).toEqual({ input: 20, output: 8 });
    expect(response.costUsd).toBe(0);
    expect(response.model).toBe("ollama:qwen3-coder:30b");
    const sent = server.chatRequests[0]!;
    expect(sent.format).toBe("ollama");
    expect(sent.model).toBe("qwen3-coder:30b");
    expect(sent).toMatchObject({ stream: false, temperature: 0, maxTokens: 64, seed: 3 });
  });

  it("sends tools and returns tool calls; answers to them go back with the tool's name", async () => {
    server.setScript([{ toolCalls: [{ name: "run_tests", arguments: { code: "x = 1" } }] }, { text: "done" }]);
    const tools = [{ name: "run_tests", description: "Runs the tests", parameters: { type: "object", properties: {} } }];
    const first = await backend().chat({ messages: user("test it"), tools });
    expect(first.toolCalls).toEqual([{ id: "call_0", name: "run_tests", arguments: { code: "x = 1" } }]);
    await backend().chat({
      messages: [
        ...user("test it"),
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", content: "1 passed", toolCallId: first.toolCalls[0]!.id },
      ],
      tools,
    });
    const [, assistant, tool] = server.chatRequests[1]!.messages;
    expect(assistant!.toolCalls).toEqual([{ name: "run_tests", arguments: { code: "x = 1" } }]);
    expect(tool).toMatchObject({ role: "tool", toolName: "run_tests", content: "1 passed" });
    expect(server.chatRequests[0]!.tools.map((tool) => tool.name)).toEqual(["run_tests"]);
  });

  it("streams NDJSON: assembles the text, measures time to first token, reads usage from the final line", async () => {
    server.setScript([{ text: "alpha beta gamma delta epsilon", usage: { input: 15, output: 6 } }]);
    const response = await backend().chat({ messages: user("letters"), stream: true });
    expect(response.text).toBe("alpha beta gamma delta epsilon");
    expect(response.usage).toEqual({ input: 15, output: 6 });
    expect(response.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(response.timeToFirstTokenMs).toBeLessThanOrEqual(response.latencyMs);
    expect(server.chatRequests[0]!.stream).toBe(true);
  });

  it("streams tool calls", async () => {
    server.setScript([{ toolCalls: [{ name: "submit", arguments: { answer: 42 } }] }]);
    const response = await backend().chat({ messages: user("answer"), stream: true });
    expect(response.toolCalls).toEqual([{ id: "call_0", name: "submit", arguments: { answer: 42 } }]);
  });

  it("sends the configured context length as num_ctx", async () => {
    const withContext = createBackend("ollama:qwen3-coder:30b", {
      ...FAST,
      baseUrl: server.ollamaHost,
      config: { models: { "ollama:qwen3-coder:30b": { contextLength: 32_768 } } },
    });
    await withContext.chat({ messages: user("hi") });
    expect(server.chatRequests[0]!.body.options).toMatchObject({ num_ctx: 32_768 });
  });

  it("retries a 429 honouring Retry-After, then succeeds", async () => {
    server.setScript([{ error: 429, retryAfter: "0", message: "too many requests" }, { text: "ok now" }]);
    const retries: RetryEvent[] = [];
    const response = await backend({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 }, onRetry: (event) => retries.push(event) }).chat({
      messages: user("hi"),
    });
    expect(response.text).toBe("ok now");
    expect(server.chatRequests).toHaveLength(2);
    expect(retries.map((event) => [event.failure.kind, event.delayMs])).toEqual([["rate_limited", 0]]);
  });

  it("retries a 500 and succeeds", async () => {
    server.setScript([{ error: 500, message: "llama runner crashed" }, { text: "recovered" }]);
    expect((await backend().chat({ messages: user("hi") })).text).toBe("recovered");
    expect(server.chatRequests).toHaveLength(2);
  });

  it("retries when the connection drops mid-stream", async () => {
    server.setScript([{ text: "a b c d e f", dropAfterChunks: 2 }, { text: "whole" }]);
    const retries: RetryEvent[] = [];
    const response = await backend({ onRetry: (event) => retries.push(event) }).chat({ messages: user("hi"), stream: true });
    expect(response.text).toBe("whole");
    expect(retries.map((event) => event.failure.kind)).toEqual(["connection"]);
  });

  it("does not retry a missing model and says to pull it", async () => {
    const error = await failureOf(createBackend("ollama:not-pulled:7b", { ...FAST, baseUrl: server.ollamaHost }).chat({ messages: user("hi") }));
    expect(server.chatRequests).toHaveLength(1);
    expect(error.code).toBe("model_unavailable");
    expect(error.hint).toBe("pull the model first: ollama pull not-pulled:7b");
  });

  it("times out a slow answer, non-streaming too", async () => {
    server.setScript(() => ({ text: "late", delayMs: 5_000 }));
    const error = await failureOf(backend({ timeoutMs: 100, maxAttempts: 2 }).chat({ messages: user("hi") }));
    expect(error.message).toMatch(/no complete answer within 100 ms/);
    expect(server.chatRequests).toHaveLength(2);
  });

  it("reports a body that is not JSON as a clear error, without retrying", async () => {
    server.setScript([{ malformed: "not-json" }]);
    const error = await failureOf(backend().chat({ messages: user("hi") }));
    expect(error.code).toBe("model_error");
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.hint).toMatch(/Ollama \/api\/chat/);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("reports a stream that ends without its final line as a clear error", async () => {
    server.setScript([{ malformed: "not-json" }]);
    const error = await failureOf(backend().chat({ messages: user("hi"), stream: true }));
    expect(error.message).toMatch(/ended without Ollama's final "done" line/);
    expect(server.chatRequests).toHaveLength(1);
  });

  it("reports stream lines that are not Ollama chat responses as a clear error", async () => {
    server.setScript([{ malformed: "wrong-shape" }]);
    const error = await failureOf(backend().chat({ messages: user("hi"), stream: true }));
    expect(error.message).toMatch(/not an Ollama chat response \(done/);
  });

  it("never has more calls in flight than its concurrency limit (1 by default)", async () => {
    server.setScript(() => ({ text: "ok", delayMs: 20 }));
    const shared = backend();
    await Promise.all(Array.from({ length: 4 }, (_, index) => shared.chat({ messages: user(`call ${index}`) })));
    expect(server.chatRequests).toHaveLength(4);
    expect(server.maxInFlight).toBe(1);
  });

  it("finds the server through OLLAMA_HOST", async () => {
    const fromEnv = createBackend("ollama:llama3", { ...FAST, env: { OLLAMA_HOST: server.ollamaHost } });
    await fromEnv.preflight();
    expect((await fromEnv.chat({ messages: user("hi") })).text).toBe("ok");
  });
});

describe("Ollama preflight", () => {
  it("passes when the model is pulled, asking only for the list", async () => {
    await backend().preflight();
    expect(server.requests.map((request) => request.path)).toEqual(["/api/tags"]);
  });

  it("names the missing model and the command that pulls it", async () => {
    const error = await failureOf(createBackend("ollama:qwen3-coder:480b", { baseUrl: server.ollamaHost }).preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/has no model "qwen3-coder:480b" \(it has qwen3-coder:30b, llama3:latest\)/);
    expect(error.hint).toBe("ollama pull qwen3-coder:480b");
  });

  it("says Ollama is not running when nothing listens", async () => {
    const closed = await startScriptedModelServer();
    const host = closed.ollamaHost;
    await closed.close();
    const error = await failureOf(createBackend("ollama:qwen3-coder:30b", { baseUrl: host }).preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/cannot reach Ollama at .*connection refused/);
    expect(error.hint).toMatch(/ollama serve/);
  });
});
