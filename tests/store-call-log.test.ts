import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChatResponse, LoggedCall } from "../src/llm/types.js";
import type { Store } from "../src/store/index.js";
import { makeRun, tempStore } from "./fixtures/store-fixtures.js";

let store: Store;
let dbPath: string;
let cleanup: () => void;

beforeEach(() => {
  ({ store, dbPath, cleanup } = tempStore());
  store.createRun(makeRun({ runId: "run_a" }));
  store.createRun(makeRun({ runId: "run_b" }));
});
afterEach(() => cleanup());

function answer(text: string, costUsd = 0.002): ChatResponse {
  return {
    text,
    toolCalls: [{ id: "t1", name: "run_tests", arguments: { file: "a.py" } }],
    usage: { input: 40, output: 12 },
    latencyMs: 350,
    timeToFirstTokenMs: 90,
    model: "kimi-k2",
    costUsd,
    cached: false,
  };
}

function call(hash: string, response: ChatResponse | undefined, error?: string): LoggedCall {
  return {
    requestHash: hash,
    model: "kimi-k2",
    request: JSON.stringify({ model: "kimi-k2", messages: [{ role: "user", content: hash }] }),
    ...(response ? { response: JSON.stringify(response) } : {}),
    inputTokens: response?.usage.input ?? 0,
    outputTokens: response?.usage.output ?? 0,
    costUsd: response?.costUsd ?? 0,
    latencyMs: 350,
    ...(error ? { error } : {}),
    createdAt: "2025-01-01T10:00:00.000Z",
  };
}

describe("the store's CallLog", () => {
  it("records every call with its run and experiment", () => {
    const log = store.callLog({ runId: "run_a", experimentId: "exp_1", scope: "cache" });
    log.record(call("h1", answer("first")));
    log.record(call("h2", undefined, "429 Too Many Requests"));
    const calls = store.modelCalls({ runId: "run_a" });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ requestHash: "h1", runId: "run_a", experimentId: "exp_1", model: "kimi-k2", inputTokens: 40, outputTokens: 12, costUsd: 0.002 });
    expect(calls[1]).toMatchObject({ requestHash: "h2", error: "429 Too Many Requests" });
    expect(calls[1]!.response).toBeUndefined();
    expect(store.modelCalls({ experimentId: "exp_1" })).toHaveLength(2);
  });

  it("cache: returns the newest successful answer from any run, free now, with what it cost then", () => {
    store.callLog({ runId: "run_a", scope: "cache" }).record(call("h1", answer("old", 0.002)));
    store.callLog({ runId: "run_b", scope: "cache" }).record(call("h1", answer("new", 0.003)));
    store.callLog({ runId: "run_b", scope: "cache" }).record(call("h1", undefined, "timeout"));

    const hit = store.callLog({ scope: "cache" }).lookup("h1");
    expect(hit).toEqual({ ...answer("new"), costUsd: 0, recordedCostUsd: 0.003, cached: true });
    expect(store.callLog({ scope: "cache" }).lookup("unknown")).toBeUndefined();
  });

  it("replay: only answers recorded by the replayed run", () => {
    store.callLog({ runId: "run_a", scope: "cache" }).record(call("h1", answer("from a")));
    store.callLog({ runId: "run_b", scope: "cache" }).record(call("h1", answer("from b")));
    store.callLog({ runId: "run_b", scope: "cache" }).record(call("h2", answer("only b")));

    const replayA = store.callLog({ runId: "run_b", scope: "replay", replayRunId: "run_a" });
    expect(replayA.lookup("h1")?.text).toBe("from a");
    expect(replayA.lookup("h2")).toBeUndefined();
    expect(store.callLog({ scope: "cache" }).lookup("h2")?.text).toBe("only b");
  });

  it("a failed call is never an answer", () => {
    store.callLog({ runId: "run_a", scope: "cache" }).record(call("h1", undefined, "500 Internal Server Error"));
    expect(store.callLog({ scope: "replay", replayRunId: "run_a" }).lookup("h1")).toBeUndefined();
  });

  it("an unreadable logged answer is a miss, not a crash", () => {
    store.callLog({ runId: "run_a", scope: "cache" }).record(call("h1", answer("fine")));
    const db = new Database(dbPath);
    db.prepare("UPDATE model_calls SET response = '{not json' WHERE request_hash = 'h1'").run();
    db.close();
    expect(store.callLog({ scope: "cache" }).lookup("h1")).toBeUndefined();
  });

  it("replay needs an existing run to replay", () => {
    expect(() => store.callLog({ scope: "replay" })).toThrow(/needs the run to replay/);
    expect(() => store.callLog({ scope: "replay", replayRunId: "nope" })).toThrow(/no run with id nope/);
  });
});
