import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import { createBackend, requestHash, withCallLog, type ChatRequest } from "../src/llm/index.js";
import { MemoryCallLog } from "./fixtures/memory-call-log.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.reset();
  let answer = 0;
  server.setScript(() => ({ text: `answer ${++answer}`, usage: { input: 1_000_000, output: 0 } }));
});

// Priced, so the tests can tell a paid call from a reused one.
function kimi() {
  return createBackend("kimi-k2", { baseUrl: server.openaiBaseUrl, env: { MOONSHOT_API_KEY: "sk-test" }, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
}

const request: ChatRequest = { messages: [{ role: "user", content: "write add" }], temperature: 0, maxTokens: 50 };

describe("request hash", () => {
  it("is the same for equal requests whatever the key order, stream flag or signal", () => {
    const a = requestHash("kimi-k2", { temperature: 0, messages: [{ content: "x", role: "user" }] });
    const b = requestHash("kimi-k2", { messages: [{ role: "user", content: "x" }], temperature: 0, stream: true, signal: new AbortController().signal });
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs by model, seed and settings", () => {
    const base = requestHash("kimi-k2", request).hash;
    expect(requestHash("ollama:qwen3-coder:30b", request).hash).not.toBe(base);
    expect(requestHash("kimi-k2", { ...request, seed: 1 }).hash).not.toBe(base);
    expect(requestHash("kimi-k2", { ...request, temperature: 0.7 }).hash).not.toBe(base);
  });
});

describe("request hash of a tool-using turn", () => {
  const turn = (toolOutput: string): ChatRequest => ({
    messages: [
      { role: "user", content: "fix the failing test" },
      { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "run_tests", arguments: {} }] },
      { role: "tool", toolCallId: "c1", content: toolOutput },
    ],
  });

  it("is the same when only the times a tool printed differ, so a replayed run finds its answers", () => {
    const first = requestHash("kimi-k2", turn("$ pytest -q\nFAILED (exit 1)\n1 failed, 2 passed in 0.02s"));
    const again = requestHash("kimi-k2", turn("$ pytest -q\nFAILED (exit 1)\n1 failed, 2 passed in 0.31s"));
    expect(again.hash).toBe(first.hash);
    // What is logged is what was sent.
    expect(again.canonical).toContain("in 0.31s");
  });

  it("differs when what the tool said differs", () => {
    const failed = requestHash("kimi-k2", turn("$ pytest -q\nFAILED (exit 1)\n1 failed, 2 passed in 0.02s"));
    expect(requestHash("kimi-k2", turn("$ pytest -q\nPASSED\n3 passed in 0.02s")).hash).not.toBe(failed.hash);
    // Times are blanked only in tool outputs: a user's words are hashed as written.
    const asked = (text: string) => requestHash("kimi-k2", { messages: [{ role: "user", content: text }] }).hash;
    expect(asked("wait 2s")).not.toBe(asked("wait 3s"));
  });
});

describe("withCallLog", () => {
  it("record: calls the model every time and logs each call with tokens, cost and latency", async () => {
    const log = new MemoryCallLog();
    const backend = withCallLog(kimi(), log, "record");
    await backend.chat(request);
    await backend.chat(request);
    expect(server.chatRequests).toHaveLength(2);
    expect(log.calls).toHaveLength(2);
    expect(log.calls[0]).toMatchObject({ model: "kimi-k2", inputTokens: 1_000_000, outputTokens: 0, costUsd: 0.6 });
    expect(log.calls[0]!.requestHash).toBe(requestHash("kimi-k2", request).hash);
    expect(JSON.parse(log.calls[0]!.request)).toMatchObject({ model: "kimi-k2", maxTokens: 50, temperature: 0 });
    expect(JSON.parse(log.calls[1]!.response!)).toMatchObject({ text: "answer 2" });
  });

  it("record: logs failed calls too, with the error", async () => {
    server.setScript(() => ({ error: 400, message: "prompt too long" }));
    const log = new MemoryCallLog();
    await expect(withCallLog(kimi(), log, "record").chat(request)).rejects.toThrow(/prompt too long/);
    expect(log.calls).toHaveLength(1);
    expect(log.calls[0]!.response).toBeUndefined();
    expect(log.calls[0]!.error).toMatch(/prompt too long/);
  });

  it("cache: reuses an identical earlier answer at no cost, and asks the model for new requests", async () => {
    const log = new MemoryCallLog();
    const backend = withCallLog(kimi(), log, "cache");
    const first = await backend.chat(request);
    const again = await backend.chat(request);
    const other = await backend.chat({ ...request, seed: 2 });
    expect(server.chatRequests).toHaveLength(2);
    expect(first).toMatchObject({ text: "answer 1", cached: false, costUsd: 0.6 });
    expect(again).toMatchObject({ text: "answer 1", cached: true, costUsd: 0, latencyMs: 0, recordedCostUsd: 0.6 });
    expect(other).toMatchObject({ text: "answer 2", cached: false });
    // The reuse is logged as well, costing nothing, with the original answer.
    expect(log.calls.map((call) => call.costUsd)).toEqual([0.6, 0, 0.6]);
    expect(JSON.parse(log.calls[1]!.response!)).toMatchObject({ text: "answer 1", costUsd: 0.6 });
  });

  it("replay: answers only from the log and makes zero HTTP requests", async () => {
    const recorded = new MemoryCallLog();
    const original = await withCallLog(kimi(), recorded, "record").chat(request);
    server.reset();

    // No key and no server needed: a replay never reaches the model.
    const offline = createBackend("kimi-k2", { baseUrl: "http://127.0.0.1:9/v1", env: {} });
    const replaying = withCallLog(offline, recorded, "replay");
    await replaying.preflight();
    const replayed = await replaying.chat(request);
    expect(replayed).toMatchObject({ text: original.text, toolCalls: original.toolCalls, usage: original.usage, cached: true, costUsd: 0 });
    expect(server.requests).toHaveLength(0);
  });

  it("replay: a request the run never made is an error, not a model call", async () => {
    const replaying = withCallLog(kimi(), new MemoryCallLog(), "replay");
    const error = await replaying.chat(request).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(KoderzError);
    expect((error as KoderzError).code).toBe("not_found");
    expect((error as KoderzError).message).toMatch(/the recorded run has no answer for this kimi-k2 request/);
    expect(server.requests).toHaveLength(0);
  });
});
