/**
 * The one interface every model backend implements. Nothing outside src/llm sees a
 * provider's own types (openai, ollama): only these.
 */
export type ChatRole = "system" | "user" | "assistant" | "tool";

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed JSON arguments as the model gave them; validate with the tool's zod schema. */
  arguments: unknown;
  /**
   * Set when the model's arguments were not valid JSON; `arguments` then holds the raw text,
   * so the caller can show the model its mistake instead of crashing.
   */
  argumentsError?: string;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** On assistant messages that called tools. */
  toolCalls?: ToolCall[];
  /** On tool messages: which call this answers. */
  toolCallId?: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object (from a zod schema via z.toJSONSchema). */
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  temperature?: number;
  maxTokens?: number;
  /** Stream the answer; the response then carries timeToFirstTokenMs. */
  stream?: boolean;
  /**
   * Asks for an answer that is one JSON value of this JSON Schema (a verdict, a score). Backends
   * that can enforce it do (llama: through a grammar); the caller still validates with zod.
   */
  responseSchema?: Record<string, unknown>;
  /** Distinguishes otherwise identical requests (parallel trajectories); part of the request hash. */
  seed?: number;
  signal?: AbortSignal;
}

/** A tool-call syntax koderz reads from an answer's text when the server did not parse it. */
export type TextToolCallFormat = "qwen3-xml" | "hermes";

export interface TokenUsage {
  input: number;
  output: number;
}

export interface ChatResponse {
  text: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  latencyMs: number;
  timeToFirstTokenMs?: number;
  /** The model id as koderz names it, e.g. "ollama:qwen3-coder:30b" or "kimi-k2". */
  model: string;
  /** Dollars, from the registry's prices; 0 for local models. */
  costUsd: number;
  /**
   * A thinking model's reasoning (its <think> block, or the server's reasoning_content / thinking
   * field): kept for the record and counted in the tokens, never read as the answer or a call.
   */
  reasoning?: string;
  /** Why the model stopped, when the server said. "length": cut at the token limit, so the answer is incomplete. */
  stopReason?: "stop" | "length" | "tool_calls" | "other";
  /** The server reported no token counts: `usage` is koderz's estimate (about 4 characters a token). */
  usageEstimated?: boolean;
  /** The tool calls were written in the text in this format and read by koderz (the server's tool parser is off). */
  toolCallsFromText?: TextToolCallFormat;
  /** True when the answer came from the record/replay cache, not from the model. */
  cached: boolean;
  /**
   * On cached answers only: what the answer cost when it was first obtained. `costUsd` is then
   * 0, because reusing it costs nothing now.
   */
  recordedCostUsd?: number;
}

export interface ModelBackend {
  /** koderz's name for the model, e.g. "kimi-k2", "ollama:qwen3-coder:30b". */
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** Fails fast with a KoderzError (missing key, unreachable host, unknown model) before a run starts. */
  preflight(): Promise<void>;
}

/** One model call as it is logged: what record/replay and cost accounting need. */
export interface LoggedCall {
  /** sha256 of the canonical JSON of {model, messages, tools, temperature, maxTokens, seed}. */
  requestHash: string;
  model: string;
  /** Canonical JSON of the request (without signal). */
  request: string;
  /** JSON of the ChatResponse, absent when the call failed. */
  response?: string;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  latencyMs: number;
  error?: string;
  createdAt: string; // ISO 8601
}

/**
 * Where model calls are logged and looked up again. src/store implements it; src/llm wraps
 * any backend with it for --cache (reuse an identical earlier answer) and --replay (answer
 * only from a recorded run, never call the model).
 */
export interface CallLog {
  record(call: LoggedCall): void;
  /** The logged response for this request hash, if any (the store decides the scope: cache or one run). */
  lookup(requestHash: string): ChatResponse | undefined;
}
