import pLimit from "p-limit";
import { normalizeAnswer } from "./answer-quirks.js";
import { CallFailure, toKoderzError, type CallTarget } from "./call-failure.js";
import { costUsd, type TokenPrices } from "./cost.js";
import { RetriesExhausted, withRetries, withTimeout, type RetryEvent, type RetryPolicy } from "./resilience.js";
import type { ChatRequest, ChatResponse, ModelBackend, TokenUsage, ToolCall } from "./types.js";

/** What a provider's answer is, before koderz adds timing, cost and its own model name. */
export interface ProviderAnswer {
  text: string;
  toolCalls: ToolCall[];
  /** Undefined when the server reported no token counts: koderz then estimates them (and says so). */
  usage?: TokenUsage;
  /** The server's separate reasoning field (reasoning_content, reasoning, Ollama's thinking). */
  reasoning?: string;
  /** finish_reason / done_reason as the server sent it. */
  finishReason?: string;
  /** From the start of the attempt to the first content or tool-call token (streaming only). */
  timeToFirstTokenMs?: number;
}

/**
 * One provider's wire format and nothing else. `send` makes exactly one HTTP attempt and
 * throws a CallFailure when it fails; everything around it (limits, retries, timeouts, cost)
 * is managedBackend's job, so it is the same for every provider.
 */
export interface ProviderTransport {
  readonly target: CallTarget;
  send(request: ChatRequest, signal: AbortSignal): Promise<ProviderAnswer>;
  /** One cheap request that proves the host is up, the key works and the model exists; throws KoderzError. */
  preflight(): Promise<void>;
}

export interface CallSettings {
  retry: RetryPolicy;
  /** Most calls this backend has in flight at once; more wait their turn. */
  concurrency: number;
  /** Undefined when koderz does not know the model's prices: its cost then counts as 0. */
  prices?: TokenPrices;
  onRetry?: (event: RetryEvent & { model: string }) => void;
}

export function managedBackend(transport: ProviderTransport, settings: CallSettings): ModelBackend {
  // Per attempt, not per call: a call sleeping before its retry does not hold a slot, while the
  // server still never sees more than `concurrency` requests from this backend at once.
  const limit = pLimit(settings.concurrency);
  const model = transport.target.modelId;

  async function attemptOnce(request: ChatRequest): Promise<{ answer: ProviderAnswer; latencyMs: number }> {
    return limit(async () => {
      const started = performance.now();
      const answer = await withTimeout(settings.retry.timeoutMs, request.signal, (signal) => transport.send(request, signal));
      return { answer, latencyMs: performance.now() - started };
    });
  }

  return {
    model,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      try {
        const { answer, latencyMs } = await withRetries(settings.retry, () => attemptOnce(request), {
          signal: request.signal,
          onRetry: settings.onRetry ? (event) => settings.onRetry!({ ...event, model }) : undefined,
        });
        // Reasoning split off, text-written tool calls read, missing usage estimated: the same for every provider.
        const { text, toolCalls, usage, ...quirks } = normalizeAnswer(answer, request);
        const response: ChatResponse = {
          text,
          toolCalls,
          usage,
          latencyMs: Math.round(latencyMs),
          model,
          costUsd: costUsd(usage, settings.prices),
          cached: false,
          ...quirks,
        };
        if (answer.timeToFirstTokenMs !== undefined) response.timeToFirstTokenMs = Math.round(answer.timeToFirstTokenMs);
        return response;
      } catch (error) {
        if (error instanceof RetriesExhausted) throw toKoderzError(error.failure, transport.target, error.attempts);
        if (error instanceof CallFailure) throw toKoderzError(error, transport.target, 1);
        throw error;
      }
    },
    preflight: () => transport.preflight(),
  };
}
