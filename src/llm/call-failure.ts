import { KoderzError } from "../errors.js";

/**
 * Why one attempt at a model call failed, in words the retry policy understands. Each
 * provider file translates its client's errors into this, so retries, messages and hints are
 * decided once, not once per provider.
 */
export type FailureKind =
  | "rate_limited" // 429
  | "server" // 5xx, or an error the server reported mid-stream
  | "connection" // refused, reset, DNS, a stream cut short
  | "timeout" // no complete answer within the per-call timeout
  | "auth" // 401, 403: the key is missing, wrong or lacks access
  | "not_found" // 404: usually an unknown model name or a wrong base URL
  | "context_length" // the prompt and the answer's tokens do not fit the model's context
  | "rejected" // any other 4xx: the server refused this request
  | "malformed"; // a body that is not the wire format it should be

const RETRYABLE: ReadonlySet<FailureKind> = new Set(["rate_limited", "server", "connection", "timeout"]);

export class CallFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "CallFailure";
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/**
 * How servers word "the prompt does not fit", each its own way:
 *  - vLLM: "This model's maximum context length is 32768 tokens. However, you requested 33010
 *    tokens (...)", "The prompt (total length N) is too long to fit into the model (context length M)",
 *    "Input prompt (N tokens) is too long and exceeds limit of M" (vllm-project/vllm issues #20409, #12165, #10440);
 *  - OpenAI: the same sentence as vLLM, code context_length_exceeded;
 *  - Moonshot: "Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)"
 *    (MoonshotAI/kimi-cli issue #2011);
 *  - Ollama (0.12+ with truncation off, and its runner's log): "the input length exceeds the context length".
 * The first number is the limit, where the message gives one.
 */
const CONTEXT_LENGTH_PATTERNS: readonly RegExp[] = [
  /maximum context length is (\d+)/i,
  /too long to fit into the model \(context length (\d+)\)/i,
  /is too long and exceeds limit of (\d+)/i,
  /exceeded model token limit:?\s*(\d+)?/i,
  /exceeds? (?:the )?(?:maximum )?context (?:length|window)(?:[^\d]*(\d+))?/i,
  /context_length_exceeded/i,
];

/** The context limit a server's error states, or undefined when the error is not about the context. */
export function contextLimitIn(message: string): { limit?: number } | undefined {
  for (const pattern of CONTEXT_LENGTH_PATTERNS) {
    const match = pattern.exec(message);
    if (match) return match[1] ? { limit: Number(match[1]) } : {};
  }
  return undefined;
}

/** The failure kind of an HTTP error (or an error inside a stream, with no status), from its status and its words. */
export function failureKindOf(status: number | undefined, message: string): FailureKind {
  if ((status === undefined || status === 400 || status === 413 || status === 422 || status >= 500) && contextLimitIn(message)) return "context_length";
  return status === undefined ? "server" : failureKindForStatus(status);
}

export function failureKindForStatus(status: number): FailureKind {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status >= 500) return "server";
  return "rejected";
}

/** Where the failed call went, for messages: e.g. `kimi-k2 (kimi-k2-0905-preview at https://api.moonshot.ai/v1)`. */
export interface CallTarget {
  modelId: string;
  endpoint: string;
  /** The env variable holding the key, for hints; absent for servers that need none. */
  apiKeyEnv?: string;
  /** The name the server knows the model by. */
  providerModel: string;
  provider: "openai-compatible" | "ollama" | "llama";
}

/**
 * The error a user sees once retries are over. Configuration problems (bad key, unknown
 * model) are "model_unavailable" so a run stops at once instead of failing every problem;
 * everything else is "model_error".
 */
export function toKoderzError(failure: CallFailure, target: CallTarget, attempts: number): KoderzError {
  const where = `${target.modelId} (${target.providerModel} at ${target.endpoint})`;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const message = `model call to ${where} failed${tries}: ${failure.message}`;
  switch (failure.kind) {
    case "auth":
      return new KoderzError(
        "model_unavailable",
        message,
        target.apiKeyEnv
          ? `check that ${target.apiKeyEnv} holds a valid key for ${target.endpoint}`
          : `the server at ${target.endpoint} wants a key: name its env variable with "apiKeyEnv" in koderz.config.json`,
      );
    case "not_found":
      return new KoderzError(
        "model_unavailable",
        message,
        target.provider === "ollama"
          ? `pull the model first: ollama pull ${target.providerModel}`
          : `check the model name "${target.providerModel}" and the base URL ${target.endpoint} (GET ${target.endpoint}/models lists what it serves)`,
      );
    case "rate_limited":
      return new KoderzError("model_error", message, "the provider is rate limiting: lower --concurrency, or wait and resume the run");
    case "timeout":
      return new KoderzError("model_error", message, "the model is slow or stuck: raise the timeout (timeoutMs) or use a faster model");
    case "connection":
      return new KoderzError("model_error", message, `check that ${target.endpoint} is reachable from this machine`);
    case "malformed":
      return new KoderzError(
        "model_error",
        message,
        `the server at ${target.endpoint} does not speak the ${target.provider === "ollama" ? "Ollama /api/chat" : "OpenAI chat completions"} format koderz expects`,
      );
    case "server":
      return new KoderzError("model_error", message, "the provider is failing: try again later, or resume the run");
    case "rejected":
      return new KoderzError("model_error", message, "the server refused this request; its message above says why");
    case "context_length": {
      const limit = contextLimitIn(failure.message)?.limit;
      return new KoderzError(
        "model_error",
        `${message} (the prompt and the answer's tokens do not fit ${limit ? `its ${limit}-token context` : "its context"})`,
        target.provider === "ollama"
          ? `give ${target.modelId} a larger "contextLength" (sent as num_ctx) in koderz.config.json, or use a model with a longer context`
          : `use a model with a longer context, or start the server with a longer one (vLLM: --max-model-len); \`koderz doctor ${target.modelId}\` shows what it accepts`,
      );
    }
  }
}

/**
 * A readable reason for a network failure: Node's fetch says only "fetch failed" and keeps
 * the useful part (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
 */
export function describeNetworkError(error: unknown): string {
  const causes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
    causes.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return causes.filter(Boolean).join(": ") || String(error);
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "the response body stalled",
};

export function isAbortError(error: unknown): boolean {
  return typeof error === "object" && error !== null && "name" in error && (error.name === "AbortError" || error.name === "TimeoutError");
}
