import { access } from "node:fs/promises";
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, GbnfJsonSchema, LlamaGrammar } from "node-llama-cpp";
import { KoderzError } from "../errors.js";
import { CallFailure, isAbortError, type CallTarget } from "./call-failure.js";
import { parseGgufSource, type GgufSource } from "./gguf-cache.js";
import { downloadModelFile } from "./hf-download.js";
import { loadLlamaModel, nodeLlamaCpp, sharedLlama, type LlamaSettings, type LoadedLlamaModel } from "./llama-runtime.js";
import type { ProviderAnswer, ProviderTransport } from "./managed-backend.js";
import type { ChatMessage, ChatRequest, ToolCall, ToolSpec } from "./types.js";

/**
 * A GGUF model run in this process by node-llama-cpp: no server. The chat template is the one
 * in the GGUF's metadata (node-llama-cpp's "auto" chat wrapper reads tokenizer.chat_template),
 * tools go through its function calling, and a request with a responseSchema is held to it by
 * a JSON-schema grammar.
 */
export interface LlamaEndpoint {
  /** koderz's id, e.g. "llama:hf:Qwen/…/model.gguf". */
  modelId: string;
  /** What follows "llama:". */
  reference: string;
  settings: LlamaSettings;
}

export function llamaTransport(endpoint: LlamaEndpoint): ProviderTransport {
  const source = parseGgufSource(endpoint.reference);
  const target: CallTarget = {
    modelId: endpoint.modelId,
    providerModel: source.kind === "file" ? source.path : `${source.owner}/${source.repo}/${source.file}`,
    endpoint: "this process (node-llama-cpp)",
    provider: "llama",
  };
  let model: Promise<LoadedLlamaModel> | undefined;
  const ready = (): Promise<LoadedLlamaModel> => {
    model ??= localFile(source).then((path) => loadLlamaModel(path, endpoint.settings));
    // A failed download or load is tried again on the next call, not remembered forever.
    model.catch(() => (model = undefined));
    return model;
  };

  return {
    target,
    async send(request: ChatRequest, signal: AbortSignal): Promise<ProviderAnswer> {
      const loaded = await ready();
      const { LlamaChat } = await nodeLlamaCpp();
      const sequence = await loaded.acquire();
      const chat = new LlamaChat({ contextSequence: sequence });
      try {
        const meterBefore = sequence.tokenMeter.usedOutputTokens;
        const started = performance.now();
        let timeToFirstTokenMs: number | undefined;
        const firstToken = () => (timeToFirstTokenMs ??= performance.now() - started);
        // The prompt's length, read when the first token comes out: by the end a context shift may have dropped part of it.
        let promptTokens: number | undefined;
        const common = {
          signal,
          maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
          onTextChunk: (text: string) => {
            if (text) firstToken();
          },
          onToken: () => {
            promptTokens ??= sequence.nextTokenIndex;
          },
        };
        const history = toHistory(request.messages);
        const result = request.tools?.length
          ? await chat.generateResponse(history, { ...common, functions: toFunctions(request.tools), onFunctionCallParamsChunk: firstToken })
          : await chat.generateResponse(history, {
              ...common,
              ...(request.responseSchema ? { grammar: await jsonGrammar(request.responseSchema) } : {}),
            });
        if (result.metadata.stopReason === "abort") throw new DOMException("the generation was aborted", "AbortError");
        const output = sequence.tokenMeter.usedOutputTokens - meterBefore;
        const answer: ProviderAnswer = {
          text: result.response,
          toolCalls: (result.functionCalls ?? []).map(
            (call, index): ToolCall => ({ id: `call_${index}`, name: call.functionName, arguments: call.params ?? {} }),
          ),
          // The whole prompt, as the other backends count it, though a prefix shared with the last call was evaluated only once.
          usage: { input: promptTokens ?? Math.max(0, sequence.nextTokenIndex - output), output },
        };
        if (request.stream && timeToFirstTokenMs !== undefined) answer.timeToFirstTokenMs = timeToFirstTokenMs;
        return answer;
      } catch (error) {
        if (error instanceof KoderzError || error instanceof CallFailure || isAbortError(error)) throw error;
        throw new CallFailure("rejected", `node-llama-cpp: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        chat.dispose({ disposeSequence: false });
        loaded.release(sequence);
      }
    },
    /** Downloads the file when it is not in the cache yet and loads it, so both happen before a run, not in its first call. */
    async preflight(): Promise<void> {
      await ready();
    },
  };
}

/** An answer longer than this is cut, as a server's default max_tokens would; agents ask for their own. */
const DEFAULT_MAX_TOKENS = 2048;

/** The GGUF file a llama: reference names, downloaded into the cache first for hf: ones. */
export function localGgufFile(reference: string): Promise<string> {
  return localFile(parseGgufSource(reference));
}

async function localFile(source: GgufSource): Promise<string> {
  if (source.kind === "hf") {
    return downloadModelFile({ url: source.url, destination: source.cachePath, label: `${source.owner}/${source.repo}/${source.file}` });
  }
  try {
    await access(source.path);
  } catch {
    throw new KoderzError("not_found", `no model file at ${source.path}`, "check the path after llama:, or use llama:hf:OWNER/REPO/FILE.gguf to download one");
  }
  return source.path;
}

const grammars = new Map<string, Promise<LlamaGrammar>>();

async function jsonGrammar(schema: Record<string, unknown>): Promise<LlamaGrammar> {
  const key = JSON.stringify(schema);
  let grammar = grammars.get(key);
  if (!grammar) {
    grammar = sharedLlama().then((llama) => llama.createGrammarForJsonSchema<GbnfJsonSchema>(toGbnfSchema(schema)));
    grammars.set(key, grammar);
  }
  return grammar;
}

/**
 * z.toJSONSchema adds keys ($schema, additionalProperties, …) that node-llama-cpp's grammar
 * builder does not take; the shape it needs (type, properties, required, items, enum, const,
 * anyOf/oneOf, description) stays.
 */
function toGbnfSchema(schema: unknown): GbnfJsonSchema {
  if (Array.isArray(schema)) return schema.map(toGbnfSchema) as unknown as GbnfJsonSchema;
  if (typeof schema !== "object" || schema === null) return schema as GbnfJsonSchema;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "additionalProperties" || key === "title" || key === "default") continue;
    if (key === "properties" && value && typeof value === "object") {
      kept.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toGbnfSchema(sub)]));
    } else if (key === "anyOf") kept.oneOf = (value as unknown[]).map(toGbnfSchema);
    else kept[key] = typeof value === "object" ? toGbnfSchema(value) : value;
  }
  return kept as GbnfJsonSchema;
}

function toFunctions(tools: ToolSpec[]): ChatModelFunctions {
  return Object.fromEntries(tools.map((tool) => [tool.name, { description: tool.description, params: toGbnfSchema(tool.parameters) }]));
}

/**
 * koderz's messages as node-llama-cpp's history. An assistant turn with tool calls, the tool
 * messages answering them and the assistant's next words are one "model" item there: the
 * calls carry their results. The history ends with a model item for generation to continue.
 */
export function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const callsById = new Map<string, ChatModelFunctionCall>();
  const currentModelItem = (): Extract<ChatHistoryItem, { type: "model" }> => {
    const last = history[history.length - 1];
    if (last?.type === "model") return last;
    const item: Extract<ChatHistoryItem, { type: "model" }> = { type: "model", response: [] };
    history.push(item);
    return item;
  };
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        break;
      case "user":
        history.push({ type: "user", text: message.content });
        break;
      case "assistant": {
        const item = currentModelItem();
        if (message.content) item.response.push(message.content);
        for (const call of message.toolCalls ?? []) {
          const functionCall: ChatModelFunctionCall = { type: "functionCall", name: call.name, params: call.arguments, result: undefined };
          callsById.set(call.id, functionCall);
          item.response.push(functionCall);
        }
        break;
      }
      case "tool": {
        const call = message.toolCallId ? callsById.get(message.toolCallId) : undefined;
        if (call) call.result = message.content;
        else currentModelItem().response.push(message.content);
        break;
      }
    }
  }
  currentModelItem();
  return history;
}
