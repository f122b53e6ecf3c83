import { KoderzError } from "../errors.js";
import { CallFailure } from "./call-failure.js";

/**
 * The one retry policy for model calls. The provider clients' own retries are switched off
 * (openai: maxRetries 0; ollama has none) so a failing call is retried exactly here.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff before attempt n+1 is about baseDelayMs * 2^(n-1), with jitter, capped by maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out: the call fails with a clear message instead. */
  maxRetryAfterMs: number;
  /** Each attempt must finish (the whole stream included) within this. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
  timeoutMs: 120_000,
};

export interface RetryEvent {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long koderz waits before the next attempt. */
  delayMs: number;
  failure: CallFailure;
}

export interface RetryOptions {
  /** The caller's own cancellation: stops waiting and retrying at once. */
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
  /** For jitter; tests may fix it. */
  random?: () => number;
}

export class RetriesExhausted extends Error {
  constructor(
    readonly failure: CallFailure,
    readonly attempts: number,
  ) {
    super(failure.message);
    this.name = "RetriesExhausted";
  }
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or attempts run out; then
 * throws RetriesExhausted carrying the last failure. Errors that are not CallFailures (a
 * KoderzError, a bug) pass through untouched.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!(error instanceof CallFailure)) throw error;
      if (!error.retryable || attemptNumber >= policy.maxAttempts) throw new RetriesExhausted(error, attemptNumber);
      const retryAfterMs = error.details.retryAfterMs;
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
        const wait = new CallFailure(
          error.kind,
          `${error.message}; the server asks to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than koderz waits (${Math.ceil(policy.maxRetryAfterMs / 1000)} s)`,
          error.details,
        );
        throw new RetriesExhausted(wait, attemptNumber);
      }
      const delayMs = retryAfterMs ?? backoffDelayMs(policy, attemptNumber, random);
      options.onRetry?.({ attempt: attemptNumber, delayMs, failure: error });
      await sleep(delayMs, options.signal);
    }
  }
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so parallel
 * callers that failed together do not all come back at the same instant.
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/**
 * Milliseconds the server asked us to wait, from `retry-after-ms` (OpenAI's and Azure's
 * extension) or `retry-after` (seconds, or an HTTP date). Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const milliseconds = headers.get("retry-after-ms");
  if (milliseconds !== null && milliseconds.trim() !== "") {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers.get("retry-after")?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `work` with a signal that aborts after `timeoutMs` or when the caller's signal does.
 * A timeout becomes a retryable CallFailure; the caller's abort becomes "interrupted". The
 * race makes the timeout hold even if a client were slow to honour the signal.
 */
export async function withTimeout<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  throwIfCallerAborted(callerSignal);
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      reject(new CallFailure("timeout", `no complete answer within ${formatMs(timeoutMs)}`));
    }, timeoutMs);
  });
  const onCallerAbort = () => controller.abort();
  callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    const result = await Promise.race([work(controller.signal), expired]);
    // A client may end an aborted stream quietly; a cancelled call must not look finished.
    throwIfCallerAborted(callerSignal);
    return result;
  } catch (error) {
    throwIfCallerAborted(callerSignal);
    if (timedOut) throw new CallFailure("timeout", `no complete answer within ${formatMs(timeoutMs)}`);
    throw error;
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
    // The losing side of the race must not surface as an unhandled rejection.
    expired.catch(() => undefined);
  }
}

function throwIfCallerAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KoderzError("interrupted", "the model call was cancelled");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfCallerAborted(signal);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new KoderzError("interrupted", "the model call was cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}
