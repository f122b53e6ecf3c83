import { describe, expect, it } from "vitest";
import { CallFailure } from "../src/llm/call-failure.js";
import { backoffDelayMs, DEFAULT_RETRY_POLICY, parseRetryAfter, RetriesExhausted, withRetries } from "../src/llm/resilience.js";

const headers = (values: Record<string, string>) => new Headers(values);

describe("Retry-After", () => {
  it("reads seconds, HTTP dates and retry-after-ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(headers({ "retry-after": "7" }), now)).toBe(7_000);
    expect(parseRetryAfter(headers({ "retry-after": "1.5" }), now)).toBe(1_500);
    expect(parseRetryAfter(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }), now)).toBe(30_000);
    expect(parseRetryAfter(headers({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }), now)).toBe(0);
    expect(parseRetryAfter(headers({ "retry-after-ms": "250", "retry-after": "9" }), now)).toBe(250);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfter(headers({}))).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("backoff", () => {
  it("doubles per attempt, stays within half to all of it, and is capped", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(50);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(400);
    expect(backoffDelayMs(policy, 10, () => 1)).toBe(1_000);
  });
});

describe("withRetries", () => {
  const fast = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 1 };

  it("does not retry what retrying cannot fix", async () => {
    let attempts = 0;
    const outcome = withRetries(fast, async () => {
      attempts++;
      throw new CallFailure("auth", "HTTP 401");
    });
    await expect(outcome).rejects.toBeInstanceOf(RetriesExhausted);
    expect(attempts).toBe(1);
  });

  it("passes errors that are not call failures straight through", async () => {
    let attempts = 0;
    const bug = new TypeError("a bug");
    await expect(
      withRetries(fast, async () => {
        attempts++;
        throw bug;
      }),
    ).rejects.toBe(bug);
    expect(attempts).toBe(1);
  });
});
