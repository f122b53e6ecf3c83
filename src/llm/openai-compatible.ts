import type OpenAI from "openai";
import type {
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from "openai/resources/chat/completions";
import { z } from "zod";
import { KoderzError } from "../errors.js";
import { CallFailure, describeNetworkError, failureKindOf, isAbortError, type CallTarget } from "./call-failure.js";
import type { ProviderAnswer, ProviderTransport } from "./managed-backend.js";
import { parseRetryAfter } from "./resilience.js";
import { parseToolArguments, serializeToolArguments } from "./tool-arguments.js";
import type { ChatMessage, ChatRequest, ToolCall, ToolSpec } from "./types.js";

type Sdk = typeof import("openai");
let sdkLoading: Promise<Sdk> | undefined;
/** The client library, loaded at the first call: a run on other backends never pays for its 150 files. */
const loadSdk = (): Promise<Sdk> => (sdkLoading ??= import("openai"));

/** An OpenAI chat-completions server: Moonshot, OpenRouter, Chutes, OpenAI, vLLM, llama.cpp, LM Studio. */
export interface OpenAICompatibleEndpoint {
  modelId: string;
  /** The name the server knows the model by, e.g. "kimi-k2-0905-preview". */
  providerModel: string;
  baseUrl: string;
  /** The env variable the key comes from; undefined for servers that take no key. */
  apiKeyEnv?: string;
  apiKey?: string;
  /** Hosted providers list exactly what they serve; local servers often answer to any name. */
  checkModelListed: boolean;
  preflightTimeoutMs?: number;
}

export function openAICompatibleTransport(endpoint: OpenAICompatibleEndpoint): ProviderTransport {
  const target: CallTarget = {
    modelId: endpoint.modelId,
    providerModel: endpoint.providerModel,
    endpoint: endpoint.baseUrl,
    provider: "openai-compatible",
    ...(endpoint.apiKeyEnv ? { apiKeyEnv: endpoint.apiKeyEnv } : {}),
  };
  let client: OpenAI | undefined;
  const clientOf = (sdk: Sdk): OpenAI =>
    (client ??= new sdk.default({
      fetch: keepErrorBodies,
      // Local servers take no key, but the client insists on one.
      apiKey: endpoint.apiKey ?? "no-key",
      baseURL: endpoint.baseUrl,
      // One retry policy for koderz: resilience.ts. The client's own would multiply with it.
      maxRetries: 0,
      // Our own errors say what failed; the client's console logging would only repeat it.
      logLevel: "off",
    }));

  function requireKey(): void {
    if (endpoint.apiKeyEnv && !endpoint.apiKey) {
      throw new KoderzError(
        "model_unavailable",
        `${endpoint.apiKeyEnv} is not set (needed for ${endpoint.modelId} at ${endpoint.baseUrl})`,
        `export ${endpoint.apiKeyEnv}=... (your key for ${new URL(endpoint.baseUrl).host})`,
      );
    }
  }

  return {
    target,

    async send(request: ChatRequest, signal: AbortSignal): Promise<ProviderAnswer> {
      requireKey();
      const params = toWireRequest(endpoint.providerModel, request);
      const sdk = await loadSdk();
      try {
        return request.stream ? await streamAnswer(clientOf(sdk), params, signal) : await wholeAnswer(clientOf(sdk), params, signal);
      } catch (error) {
        throw toCallFailure(error, sdk);
      }
    },

    async preflight(): Promise<void> {
      requireKey();
      let served: string[];
      const sdk = await loadSdk();
      try {
        const page = await clientOf(sdk).models.list({ signal: AbortSignal.timeout(endpoint.preflightTimeoutMs ?? 15_000) });
        // A list koderz cannot read is no reason to stop: the host answered, which is what matters most.
        served = ModelListSchema.safeParse({ data: page.data }).data?.data.map((model) => model.id) ?? [];
      } catch (error) {
        // Some OpenAI-compatible servers do not implement GET /models; reaching them is enough.
        if (error instanceof sdk.APIError && error.status === 404) return;
        throw preflightError(error, target, sdk);
      }
      if (endpoint.checkModelListed && served.length > 0 && !served.includes(endpoint.providerModel)) {
        throw new KoderzError(
          "model_unavailable",
          `${endpoint.baseUrl} does not serve a model named "${endpoint.providerModel}"`,
          `use one it lists, e.g. ${closestNames(endpoint.providerModel, served).join(", ")}`,
        );
      }
    },
  };
}

type WireRequest = ChatCompletionCreateParamsBase & { model: string };

function toWireRequest(providerModel: string, request: ChatRequest): WireRequest {
  const params: WireRequest = { model: providerModel, messages: request.messages.map(toWireMessage) };
  if (request.tools?.length) params.tools = request.tools.map(toWireTool);
  if (request.temperature !== undefined) params.temperature = request.temperature;
  // max_tokens, not max_completion_tokens: it is what compatible servers (Moonshot, vLLM, llama.cpp) accept.
  if (request.maxTokens !== undefined) params.max_tokens = request.maxTokens;
  if (request.seed !== undefined) params.seed = request.seed;
  return params;
}

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant":
      if (!message.toolCalls?.length) return { role: "assistant", content: message.content };
      return {
        role: "assistant",
        content: message.content === "" ? null : message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: "function" as const,
          function: { name: call.name, arguments: serializeToolArguments(call) },
        })),
      };
    case "tool":
      if (!message.toolCallId) throw new KoderzError("internal", "a tool message must say which call it answers (toolCallId)");
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

function toWireTool(tool: ToolSpec): ChatCompletionTool {
  return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

// What koderz reads of a chat completion. Checked, because "OpenAI-compatible" servers vary.
const WireToolCallSchema = z.object({
  id: z.string().nullish(),
  function: z.object({ name: z.string(), arguments: z.string().nullish() }),
});
const UsageSchema = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() });
// A thinking model's reasoning: vLLM's `reasoning_content` (renamed `reasoning` in 0.11), Moonshot's
// `reasoning_content`, OpenRouter's `reasoning`.
const ReasoningFields = { reasoning_content: z.string().nullish(), reasoning: z.string().nullish() };
const CompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), tool_calls: z.array(WireToolCallSchema).nullish(), ...ReasoningFields }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: UsageSchema.nullish(),
});
const ChunkSchema = z.object({
  choices: z.array(
    z.object({
      delta: z
        .object({
          content: z.string().nullish(),
          ...ReasoningFields,
          tool_calls: z
            .array(
              z.object({
                index: z.number(),
                id: z.string().nullish(),
                function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: UsageSchema.nullish(),
});
const ModelListSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

async function wholeAnswer(client: OpenAI, params: WireRequest, signal: AbortSignal): Promise<ProviderAnswer> {
  const raw: unknown = await client.chat.completions.create({ ...params, stream: false }, { signal });
  const completion = parseWire(CompletionSchema, raw, "chat completion");
  const choice = completion.choices[0]!;
  const message = choice.message;
  return withOptional(
    {
      text: message.content ?? "",
      toolCalls: (message.tool_calls ?? []).map((call, index) =>
        toToolCall(call.id ?? `call_${index}`, call.function.name, call.function.arguments ?? ""),
      ),
    },
    { usage: toUsage(completion.usage), reasoning: message.reasoning_content ?? message.reasoning ?? undefined, finishReason: choice.finish_reason ?? undefined },
  );
}

function withOptional(answer: ProviderAnswer, optional: Pick<ProviderAnswer, "usage" | "reasoning" | "finishReason">): ProviderAnswer {
  for (const [key, value] of Object.entries(optional)) if (value !== undefined && value !== "") Object.assign(answer, { [key]: value });
  return answer;
}

async function streamAnswer(client: OpenAI, params: WireRequest, signal: AbortSignal): Promise<ProviderAnswer> {
  const started = performance.now();
  const stream = await client.chat.completions.create(
    // include_usage: the last chunk then carries the token counts, which streaming otherwise omits.
    { ...params, stream: true, stream_options: { include_usage: true } },
    { signal },
  );
  let text = "";
  let reasoning = "";
  let finishReason: string | undefined;
  let timeToFirstTokenMs: number | undefined;
  let usage: z.infer<typeof UsageSchema> | null | undefined;
  // Tool calls arrive in fragments keyed by index: the id and name first, then the arguments piece by piece.
  const partialCalls = new Map<number, { id?: string; name: string; arguments: string }>();
  for await (const rawChunk of stream) {
    const chunk = parseWire(ChunkSchema, rawChunk, "chat completion chunk");
    if (chunk.usage) usage = chunk.usage;
    finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    const delta = chunk.choices[0]?.delta;
    if (!delta) continue;
    const thought = delta.reasoning_content ?? delta.reasoning;
    // A thinking model's first token is often reasoning: it counts as the first token all the same.
    if (delta.content || thought || delta.tool_calls?.length) timeToFirstTokenMs ??= performance.now() - started;
    if (delta.content) text += delta.content;
    if (thought) reasoning += thought;
    for (const fragment of delta.tool_calls ?? []) {
      const call = partialCalls.get(fragment.index) ?? { name: "", arguments: "" };
      if (fragment.id) call.id = fragment.id;
      if (fragment.function?.name) call.name += fragment.function.name;
      if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
      partialCalls.set(fragment.index, call);
    }
  }
  // The client ends an aborted stream quietly; a partial answer must not pass for a whole one.
  if (signal.aborted) throw new DOMException("the stream was aborted", "AbortError");
  const toolCalls = [...partialCalls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, call]) => toToolCall(call.id ?? `call_${index}`, call.name, call.arguments));
  const answer = withOptional({ text, toolCalls }, { usage: toUsage(usage), reasoning, finishReason });
  if (timeToFirstTokenMs !== undefined) answer.timeToFirstTokenMs = timeToFirstTokenMs;
  return answer;
}

function toToolCall(id: string, name: string, rawArguments: string): ToolCall {
  return { id, name, ...parseToolArguments(rawArguments) };
}

// A server that reports no usage (some local ones, streams without stream_options): undefined, so koderz estimates it.
function toUsage(usage: z.infer<typeof UsageSchema> | null | undefined): { input: number; output: number } | undefined {
  return usage ? { input: usage.prompt_tokens, output: usage.completion_tokens } : undefined;
}

function parseWire<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const got = typeof raw === "string" ? `text: ${JSON.stringify(raw.slice(0, 80))}` : `${issue?.path.join(".") || "body"}: ${issue?.message}`;
  throw new CallFailure("malformed", `the server's answer is not a ${what} (${got})`);
}

function toCallFailure(error: unknown, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError }: Sdk): unknown {
  if (error instanceof CallFailure || error instanceof KoderzError) return error;
  // withTimeout tells a timeout from the caller's cancel.
  if (isAbortError(error) || error instanceof APIUserAbortError) return error;
  if (error instanceof APIConnectionTimeoutError) return new CallFailure("timeout", "the HTTP request timed out");
  if (error instanceof APIConnectionError) return new CallFailure("connection", describeNetworkError(error.cause ?? error));
  if (error instanceof APIError) {
    // No status: the server sent an error object inside a stream that had started fine.
    if (error.status === undefined) return new CallFailure(failureKindOf(undefined, error.message), `error in the stream: ${error.message}`);
    const retryAfterMs = parseRetryAfter(error.headers);
    const words = serverWords(error);
    const message = words ? `${error.status} ${words}` : error.message;
    return new CallFailure(failureKindOf(error.status, message), message, {
      status: error.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  // undici's word for a connection that dropped while the stream was being read.
  if (error instanceof TypeError && error.message === "terminated") return new CallFailure("connection", "the connection dropped mid-answer");
  if (error instanceof SyntaxError) return new CallFailure("malformed", `the server's answer is not valid JSON (${error.message})`);
  return error;
}

/**
 * The error bodies of failed responses, by their headers object (which the client's APIError
 * keeps). The openai client reads only `{"error": {"message"}}`; vLLM and other FastAPI servers
 * answer `{"object": "error", "message": ...}` or `{"detail": ...}`, whose words it drops ("400
 * status code (no body)"), and those words are what tell a context overflow from other refusals.
 */
const errorBodies = new WeakMap<Headers, string>();

async function keepErrorBodies(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (!response.ok) errorBodies.set(response.headers, (await response.clone().text()).slice(0, 2000));
  return response;
}

const ServerErrorBody = z.object({ message: z.string().optional(), detail: z.unknown().optional() });

/** The server's own words when the client's message lacks them, e.g. "This model's maximum context length is ...". */
function serverWords(error: { headers?: Headers | undefined; error?: unknown }): string | undefined {
  if (error.error !== undefined || !error.headers) return undefined;
  const body = errorBodies.get(error.headers);
  if (!body?.trim()) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body.slice(0, 300);
  }
  const fields = ServerErrorBody.safeParse(parsed).data;
  const words = fields?.message ?? (typeof fields?.detail === "string" ? fields.detail : fields?.detail !== undefined ? JSON.stringify(fields.detail) : undefined);
  return words?.slice(0, 500);
}

function preflightError(error: unknown, target: CallTarget, sdk: Sdk): KoderzError {
  const { APIError } = sdk;
  if (error instanceof KoderzError) return error;
  if (error instanceof APIError && (error.status === 401 || error.status === 403)) {
    return new KoderzError(
      "model_unavailable",
      `${target.endpoint} rejected the key (HTTP ${error.status})`,
      target.apiKeyEnv ? `check that ${target.apiKeyEnv} holds a valid key for this provider` : "this server wants a key: set apiKeyEnv for it in koderz.config.json",
    );
  }
  if (error instanceof APIError && error.status !== undefined) {
    return new KoderzError(
      "model_unavailable",
      `${target.endpoint} answered GET /models with an error: ${error.message}`,
      "the provider may be down: try again later, or check the base URL",
    );
  }
  const reason = unreachableReason(error, sdk);
  return new KoderzError(
    "model_unavailable",
    `cannot reach ${target.modelId} at ${target.endpoint}: ${reason}`,
    `check the base URL and that the server is running and reachable (koderz asked GET ${target.endpoint}/models)`,
  );
}

function unreachableReason(error: unknown, { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError }: Sdk): string {
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError || isAbortError(error)) return "no answer in time";
  if (error instanceof APIConnectionError) return describeNetworkError(error.cause ?? error);
  return error instanceof Error ? error.message : String(error);
}

/** A few served names that look like the one asked for, so the hint is useful on a list of hundreds. */
function closestNames(wanted: string, served: string[]): string[] {
  const lower = wanted.toLowerCase();
  const stem = lower.split(/[-:/]/)[0] ?? lower;
  const similar = served.filter((name) => name.toLowerCase().includes(stem));
  return (similar.length > 0 ? similar : served).slice(0, 8);
}
