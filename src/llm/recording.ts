import { createHash } from "node:crypto";
import { KoderzError } from "../errors.js";
import type { CallLog, ChatRequest, ChatResponse, LoggedCall, ModelBackend } from "./types.js";

/**
 * - record: every call goes to the model and is logged, failures included;
 * - cache:  an identical earlier answer (same request hash) is reused, else as record (--cache);
 * - replay: answers come only from the log; a miss is an error; the model is never called (--replay).
 */
export type CallLogMode = "record" | "cache" | "replay";

/**
 * Wraps a backend so its calls are logged and, in cache and replay modes, answered from the
 * log. A reused answer reports `cached: true`, `costUsd: 0` and `latencyMs: 0` (nothing was
 * spent or waited for now) and `recordedCostUsd` with what it cost first. Reuses are logged
 * too, with cost and latency 0 and the original answer, so the run's own log is complete and
 * can itself be replayed.
 */
export function withCallLog(backend: ModelBackend, log: CallLog, mode: CallLogMode): ModelBackend {
  return {
    model: backend.model,

    async chat(request: ChatRequest): Promise<ChatResponse> {
      const { hash, canonical } = requestHash(backend.model, request);
      if (mode !== "record") {
        const recorded = log.lookup(hash);
        if (recorded) {
          log.record(loggedCall(hash, canonical, backend.model, { response: recorded, costUsd: 0, latencyMs: 0 }));
          return reused(recorded);
        }
        if (mode === "replay") {
          throw new KoderzError(
            "not_found",
            `the recorded run has no answer for this ${backend.model} request (hash ${hash.slice(0, 12)})`,
            "a replay must ask exactly what the recorded run asked (same models, settings and problems); run without --replay to call the model",
          );
        }
      }
      const started = performance.now();
      try {
        const response = await backend.chat(request);
        log.record(loggedCall(hash, canonical, backend.model, { response, costUsd: response.costUsd, latencyMs: response.latencyMs }));
        return response;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.record(loggedCall(hash, canonical, backend.model, { error: message, costUsd: 0, latencyMs: Math.round(performance.now() - started) }));
        throw error;
      }
    },

    // A replay makes no model calls, so it needs no key and no server.
    preflight: mode === "replay" ? async () => undefined : () => backend.preflight(),
  };
}

/**
 * sha256 of the canonical JSON of what decides the answer: {model, messages, tools, temperature,
 * maxTokens, seed, responseSchema}, with the times in tool outputs blanked ("2 passed in 0.02s"):
 * the same work reads another clock on every run, and a replay or a cache hit must still find
 * the answer the model gave to it. `canonical` is the request as sent.
 */
export function requestHash(model: string, request: ChatRequest): { hash: string; canonical: string } {
  const fields = (messages: ChatRequest["messages"]) =>
    canonicalJson({
      model,
      messages,
      tools: request.tools,
      temperature: request.temperature,
      maxTokens: request.maxTokens,
      seed: request.seed,
      responseSchema: request.responseSchema,
    });
  const timeless = request.messages.map((message) => (message.role === "tool" ? { ...message, content: message.content.replace(TOOL_OUTPUT_TIME, "<time>") } : message));
  return { hash: createHash("sha256").update(fields(timeless)).digest("hex"), canonical: fields(request.messages) };
}

/** A duration as test runners and shells print it: 0.02s, 1.5 s, 12ms, 3 seconds. */
const TOOL_OUTPUT_TIME = /\b\d+(?:\.\d+)?\s?(?:ms|s|secs?|seconds?)\b/g;

/** JSON with object keys sorted and undefined fields left out, so equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) sorted[key] = sortKeys(field);
  }
  return sorted;
}

function reused(recorded: ChatResponse): ChatResponse {
  const { timeToFirstTokenMs: _notMeasuredNow, ...rest } = recorded;
  return { ...rest, cached: true, costUsd: 0, latencyMs: 0, recordedCostUsd: recorded.recordedCostUsd ?? recorded.costUsd };
}

function loggedCall(
  requestHash: string,
  request: string,
  model: string,
  outcome: { response?: ChatResponse; error?: string; costUsd: number; latencyMs: number },
): LoggedCall {
  const call: LoggedCall = {
    requestHash,
    model,
    request,
    inputTokens: outcome.response?.usage.input ?? 0,
    outputTokens: outcome.response?.usage.output ?? 0,
    costUsd: outcome.costUsd,
    latencyMs: outcome.latencyMs,
    createdAt: new Date().toISOString(),
  };
  if (outcome.response) call.response = JSON.stringify(outcome.response);
  if (outcome.error !== undefined) call.error = outcome.error;
  return call;
}
