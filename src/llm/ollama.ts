import { Ollama, type Message, type Tool } from "ollama";
import { z } from "zod";
import { KoderzError } from "../errors.js";
import { CallFailure, describeNetworkError, failureKindOf, isAbortError, type CallTarget } from "./call-failure.js";
import type { ProviderAnswer, ProviderTransport } from "./managed-backend.js";
import { parseRetryAfter } from "./resilience.js";
import { parseToolArguments } from "./tool-arguments.js";
import type { ChatMessage, ChatRequest, ToolCall, ToolSpec } from "./types.js";

/** A local (or remote) Ollama server, spoken to through the `ollama` package's /api/chat. */
export interface OllamaEndpoint {
  modelId: string;
  /** The name Ollama knows the model by, e.g. "qwen3-coder:30b". */
  providerModel: string;
  /** e.g. "http://127.0.0.1:11434" (OLLAMA_HOST's forms, like "host:port", are accepted too). */
  host: string;
  /** Sent as num_ctx: Ollama's default context is small and it cuts longer prompts silently. */
  contextLength?: number;
  preflightTimeoutMs?: number;
}

export function ollamaTransport(endpoint: OllamaEndpoint): ProviderTransport {
  const target: CallTarget = {
    modelId: endpoint.modelId,
    providerModel: endpoint.providerModel,
    endpoint: endpoint.host,
    provider: "ollama",
  };

  return {
    target,

    async send(request: ChatRequest, signal: AbortSignal): Promise<ProviderAnswer> {
      const exchange = httpExchange(signal);
      const client = new Ollama({ host: endpoint.host, fetch: exchange.fetch });
      const wireRequest = {
        model: endpoint.providerModel,
        messages: toWireMessages(request.messages),
        ...(request.tools?.length ? { tools: request.tools.map(toWireTool) } : {}),
        options: {
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.maxTokens !== undefined ? { num_predict: request.maxTokens } : {}),
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
          ...(endpoint.contextLength !== undefined ? { num_ctx: endpoint.contextLength } : {}),
        },
      };
      try {
        if (!request.stream) return toAnswer(parseWire(FinalPartSchema, await client.chat({ ...wireRequest, stream: false })));
        const started = performance.now();
        const stream = await client.chat({ ...wireRequest, stream: true });
        return await collectStream(stream, started, signal);
      } catch (error) {
        throw toCallFailure(error, exchange.lastResponse);
      }
    },

    async preflight(): Promise<void> {
      const client = new Ollama({
        host: endpoint.host,
        fetch: httpExchange(AbortSignal.timeout(endpoint.preflightTimeoutMs ?? 10_000)).fetch,
      });
      let pulled: string[];
      try {
        const listed = TagsSchema.safeParse(await client.list());
        pulled = listed.success ? listed.data.models.flatMap((model) => [model.name, model.model ?? model.name]) : [];
      } catch (error) {
        const reason = isAbortError(error) ? "no answer in time" : describeNetworkError(error);
        throw new KoderzError(
          "model_unavailable",
          `cannot reach Ollama at ${endpoint.host}: ${reason}`,
          "start it with `ollama serve`, or point OLLAMA_HOST (or the model's baseUrl in koderz.config.json) at the host where it runs",
        );
      }
      if (!isPulled(endpoint.providerModel, pulled)) {
        const names = [...new Set(pulled)].slice(0, 8);
        throw new KoderzError(
          "model_unavailable",
          `Ollama at ${endpoint.host} has no model "${endpoint.providerModel}"${names.length ? ` (it has ${names.join(", ")})` : ""}`,
          `ollama pull ${endpoint.providerModel}`,
        );
      }
    },
  };
}

/**
 * A fetch for one attempt: adds our signal (ollama-js passes none to non-streaming calls,
 * so without this a timeout could not stop them) and keeps the last response, whose
 * Retry-After ollama-js's errors do not carry.
 */
function httpExchange(signal: AbortSignal): { fetch: typeof fetch; lastResponse: Response | undefined } {
  const exchange = {
    lastResponse: undefined as Response | undefined,
    fetch: async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const signals = init?.signal ? [init.signal, signal] : [signal];
      const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
      exchange.lastResponse = response;
      return response;
    },
  };
  return exchange;
}

/** "llama3" means "llama3:latest" to Ollama. */
function isPulled(wanted: string, pulled: string[]): boolean {
  const candidates = wanted.includes(":") ? [wanted] : [wanted, `${wanted}:latest`];
  return candidates.some((name) => pulled.includes(name));
}

function toWireMessages(messages: ChatMessage[]): Message[] {
  // Ollama answers a tool call by the tool's name, not by a call id: remember which is which.
  const toolNameByCallId = new Map<string, string>();
  return messages.map((message): Message => {
    if (message.role === "assistant" && message.toolCalls?.length) {
      for (const call of message.toolCalls) toolNameByCallId.set(call.id, call.name);
      return {
        role: "assistant",
        content: message.content,
        tool_calls: message.toolCalls.map((call) => ({ function: { name: call.name, arguments: argumentsObject(call) } })),
      };
    }
    if (message.role === "tool") {
      const toolName = message.toolCallId ? toolNameByCallId.get(message.toolCallId) : undefined;
      return { role: "tool", content: message.content, ...(toolName ? { tool_name: toolName } : {}) };
    }
    return { role: message.role, content: message.content };
  });
}

// Ollama takes arguments only as an object; broken ones (from another model) go back as their text.
function argumentsObject(call: ToolCall): Record<string, unknown> {
  const value = call.arguments;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  return { raw: value };
}

function toWireTool(tool: ToolSpec): Tool {
  return {
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters as NonNullable<Tool["function"]["parameters"]> },
  };
}

// What koderz reads of Ollama's answers. Checked: a proxy or an old server may send anything.
const WireToolCallSchema = z.object({
  id: z.string().optional(),
  function: z.object({ name: z.string(), arguments: z.unknown() }),
});
const PartSchema = z.object({
  // `thinking`: a thinking model's reasoning, apart from the content (Ollama 0.9+, docs.ollama.com/capabilities/thinking).
  message: z.object({ content: z.string().default(""), thinking: z.string().nullish(), tool_calls: z.array(WireToolCallSchema).nullish() }).optional(),
  done: z.boolean(),
  done_reason: z.string().nullish(),
  prompt_eval_count: z.number().optional(),
  eval_count: z.number().optional(),
});
const FinalPartSchema = PartSchema.extend({ message: PartSchema.shape.message.unwrap() });
const TagsSchema = z.object({ models: z.array(z.object({ name: z.string(), model: z.string().optional() })) });

type Part = z.infer<typeof PartSchema>;

async function collectStream(stream: AsyncIterable<unknown>, started: number, signal: AbortSignal): Promise<ProviderAnswer> {
  let text = "";
  let thinking = "";
  const toolCalls: z.infer<typeof WireToolCallSchema>[] = [];
  let timeToFirstTokenMs: number | undefined;
  let final: Part | undefined;
  for await (const raw of stream) {
    const part = parseWire(PartSchema, raw);
    if (part.message?.content || part.message?.thinking || part.message?.tool_calls?.length) timeToFirstTokenMs ??= performance.now() - started;
    text += part.message?.content ?? "";
    thinking += part.message?.thinking ?? "";
    toolCalls.push(...(part.message?.tool_calls ?? []));
    if (part.done) final = part;
  }
  if (signal.aborted) throw new DOMException("the stream was aborted", "AbortError");
  // A dropped connection fails the read itself; a stream that ends cleanly without "done" is the server's doing.
  if (!final) throw new CallFailure("malformed", 'the stream ended without Ollama\'s final "done" line');
  const answer = toAnswer({ ...final, message: { content: text, thinking, tool_calls: toolCalls } });
  if (timeToFirstTokenMs !== undefined) answer.timeToFirstTokenMs = timeToFirstTokenMs;
  return answer;
}

function toAnswer(part: z.infer<typeof FinalPartSchema>): ProviderAnswer {
  return {
    text: part.message.content,
    toolCalls: (part.message.tool_calls ?? []).map((call, index) => ({
      // Ollama gives no call ids (newer versions may): make stable ones so tool answers can refer to them.
      id: call.id ?? `call_${index}`,
      name: call.function.name,
      ...(typeof call.function.arguments === "string"
        ? parseToolArguments(call.function.arguments)
        : { arguments: call.function.arguments ?? {} }),
    })),
    // No counts (an old server, a proxy): undefined, so koderz estimates them and says so.
    ...(part.prompt_eval_count !== undefined || part.eval_count !== undefined
      ? { usage: { input: part.prompt_eval_count ?? 0, output: part.eval_count ?? 0 } }
      : {}),
    ...(part.message.thinking ? { reasoning: part.message.thinking } : {}),
    ...(part.done_reason ? { finishReason: part.done_reason } : {}),
  };
}

function parseWire<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CallFailure("malformed", `the server's answer is not an Ollama chat response (${issue?.path.join(".") || "body"}: ${issue?.message})`);
}

function toCallFailure(error: unknown, lastResponse: Response | undefined): unknown {
  if (error instanceof CallFailure || error instanceof KoderzError || isAbortError(error)) return error;
  // ollama-js's ResponseError is not exported; it is an Error named so, with the HTTP status.
  if (error instanceof Error && error.name === "ResponseError") {
    const status = (error as { status_code?: unknown }).status_code;
    if (typeof status === "number") {
      const retryAfterMs = lastResponse && !lastResponse.ok ? parseRetryAfter(lastResponse.headers) : undefined;
      return new CallFailure(failureKindOf(status, error.message), `HTTP ${status}: ${error.message}`, {
        status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
    }
  }
  if (error instanceof SyntaxError) return new CallFailure("malformed", `the server's answer is not valid JSON (${error.message})`);
  if (error instanceof TypeError && error.message === "fetch failed") return new CallFailure("connection", describeNetworkError(error));
  // undici's word for a connection that dropped while the body was being read.
  if (error instanceof TypeError && error.message === "terminated") return new CallFailure("connection", "the connection dropped mid-answer");
  if (error instanceof Error && error.message.startsWith("Did not receive done")) {
    return new CallFailure("malformed", 'the stream ended without Ollama\'s final "done" line');
  }
  // ollama-js turns an {"error": ...} line inside a stream into a plain Error.
  if (error instanceof Error && error.constructor === Error) return new CallFailure(failureKindOf(undefined, error.message), `error in the stream: ${error.message}`);
  return error;
}
