import { KoderzError } from "../errors.js";
import { checkFoundConfigKey, HOSTED_PROVIDERS, sameUrl } from "./config-trust.js";
import type { TokenPrices } from "./cost.js";
import { llamaTransport } from "./llama.js";
import { managedBackend } from "./managed-backend.js";
import { EMPTY_MODEL_CONFIG, type ModelConfig, type ModelEntry } from "./model-config.js";
import { ollamaTransport } from "./ollama.js";
import { openAICompatibleTransport } from "./openai-compatible.js";
import { DEFAULT_RETRY_POLICY, type RetryEvent, type RetryPolicy } from "./resilience.js";
import type { ModelBackend } from "./types.js";

/**
 * Model ids koderz understands, and what each one means: which server, which key, what it
 * costs and how much context it has.
 *
 *   kimi-k2, kimi-k2-turbo           Moonshot's Kimi K2 (MOONSHOT_API_KEY)
 *   moonshot:<model>                 any Moonshot model (MOONSHOT_API_KEY)
 *   chutes:<model>                   https://llm.chutes.ai/v1 (CHUTES_API_KEY)
 *   openrouter:<model>               https://openrouter.ai/api/v1 (OPENROUTER_API_KEY)
 *   openai:<model>                   OpenAI (OPENAI_API_KEY; OPENAI_BASE_URL honoured)
 *   ollama:<model>                   Ollama at OLLAMA_HOST (default http://127.0.0.1:11434), free
 *   openai-compatible:<model>@<url>  any OpenAI-compatible server: vLLM, llama.cpp, LM Studio
 *   <name> with options.baseUrl      the same, the CLI's --base-url
 *   llama:/path/model.gguf           a GGUF file run in this process by node-llama-cpp, free
 *   llama:hf:OWNER/REPO/FILE.gguf    the same, downloaded once into koderz's cache
 *   <name> in koderz.config.json     whatever the config file defines
 */
export type ProviderKind = "openai-compatible" | "ollama" | "llama";

export interface ModelSpec {
  /** koderz's name for the model, as the user typed it. */
  id: string;
  provider: ProviderKind;
  /** The name the server knows it by. */
  providerModel: string;
  /** OpenAI-compatible base URL, or the Ollama host. */
  baseUrl: string;
  /** Where the key comes from; undefined for servers that take none. */
  apiKeyEnv?: string;
  /** Undefined when koderz does not know them: the model's calls then count as costing 0. */
  prices?: TokenPrices;
  /** Tokens. For Ollama models, when set, it is sent as num_ctx (Ollama's default is far smaller). */
  contextLength?: number;
  /** Whether preflight insists the model appears in the server's list (hosted providers only). */
  checkModelListed: boolean;
  /** llama: models only: CPU threads and batch size (the config file's, else KODERZ_LLAMA_THREADS for threads). */
  threads?: number;
  batchSize?: number;
}

type Env = Record<string, string | undefined>;

const MOONSHOT = HOSTED_PROVIDERS.moonshot;
const DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434";

/**
 * Published prices, dollars per 1M tokens (input at the cache-miss rate).
 * Moonshot: platform.moonshot.ai/docs/pricing/chat as archived 2026-03-26 (kimi-k2-0905-preview
 * $0.60 / $2.50, 262,144 tokens); kimi-k2-turbo-preview $1.15 / $8.00 as listed by Vercel's AI
 * Gateway, 2026. OpenAI: openai.com/api/pricing, 2025. Prices change: override them in
 * koderz.config.json rather than trusting these blindly.
 */
const KNOWN_MODELS: Record<string, { prices: TokenPrices; contextLength: number }> = {
  "moonshot:kimi-k2-0905-preview": { prices: { inputPerMillion: 0.6, outputPerMillion: 2.5 }, contextLength: 262_144 },
  "moonshot:kimi-k2-0711-preview": { prices: { inputPerMillion: 0.6, outputPerMillion: 2.5 }, contextLength: 131_072 },
  "moonshot:kimi-k2-turbo-preview": { prices: { inputPerMillion: 1.15, outputPerMillion: 8.0 }, contextLength: 262_144 },
  "openai:gpt-4o": { prices: { inputPerMillion: 2.5, outputPerMillion: 10 }, contextLength: 128_000 },
  "openai:gpt-4o-mini": { prices: { inputPerMillion: 0.15, outputPerMillion: 0.6 }, contextLength: 128_000 },
  "openai:gpt-4.1": { prices: { inputPerMillion: 2, outputPerMillion: 8 }, contextLength: 1_047_576 },
  "openai:gpt-4.1-mini": { prices: { inputPerMillion: 0.4, outputPerMillion: 1.6 }, contextLength: 1_047_576 },
};

/** Short names for the models koderz is built around. */
const ALIASES: Record<string, string> = {
  "kimi-k2": "moonshot:kimi-k2-0905-preview",
  "kimi-k2-turbo": "moonshot:kimi-k2-turbo-preview",
};

export const MODEL_ID_FORMS = [
  "kimi-k2",
  "kimi-k2-turbo",
  "moonshot:<model>",
  "chutes:<model>",
  "openrouter:<model>",
  "openai:<model>",
  "ollama:<model>",
  "openai-compatible:<model>@<base-url>",
  "llama:/path/model.gguf",
  "llama:hf:OWNER/REPO/FILE.gguf",
] as const;

export interface ResolveOptions {
  config?: ModelConfig;
  /** Points the model at another server: an OpenAI-compatible base URL, or the Ollama host for ollama: ids. */
  baseUrl?: string;
  env?: Env;
}

/** What a model id means, with the config file applied. Pure: reads no files, makes no calls. */
export function resolveModel(modelId: string, options: ResolveOptions = {}): ModelSpec {
  const env = options.env ?? process.env;
  const config = options.config ?? EMPTY_MODEL_CONFIG;
  const entry = config.models[modelId];
  const preset = presetFor(modelId, env, options.baseUrl);
  let spec: ModelSpec;
  if (entry) checkFoundConfigKey(modelId, entry, preset, config);
  if (preset) spec = entry ? applyEntry(preset, entry) : preset;
  else if (entry) spec = specFromEntry(modelId, entry, env, options.baseUrl, config.source);
  else if (options.baseUrl) spec = genericSpec(modelId, modelId, options.baseUrl);
  else throw unknownModel(modelId, config);
  return options.baseUrl ? { ...spec, baseUrl: options.baseUrl, checkModelListed: false } : spec;
}

function presetFor(modelId: string, env: Env, baseUrl: string | undefined): ModelSpec | undefined {
  const id = ALIASES[modelId] ?? modelId;
  const [prefix, ...rest] = id.split(":");
  const name = rest.join(":");
  if (!name) return undefined;
  const known = KNOWN_MODELS[id];
  const hosted = (base: { baseUrl: string; apiKeyEnv: string }): ModelSpec => ({
    id: modelId,
    provider: "openai-compatible",
    providerModel: name,
    baseUrl: base.baseUrl,
    apiKeyEnv: base.apiKeyEnv,
    checkModelListed: true,
    ...(known ? { prices: known.prices, contextLength: known.contextLength } : {}),
  });
  switch (prefix) {
    case "moonshot":
      return hosted(MOONSHOT);
    case "chutes":
      return hosted(HOSTED_PROVIDERS.chutes);
    case "openrouter":
      return hosted(HOSTED_PROVIDERS.openrouter);
    case "openai": {
      const custom = env.OPENAI_BASE_URL;
      return { ...hosted({ baseUrl: custom || HOSTED_PROVIDERS.openai.baseUrl, apiKeyEnv: HOSTED_PROVIDERS.openai.apiKeyEnv }), checkModelListed: !custom };
    }
    case "ollama":
      // Local models cost nothing.
      return {
        id: modelId,
        provider: "ollama",
        providerModel: name,
        baseUrl: env.OLLAMA_HOST || DEFAULT_OLLAMA_HOST,
        prices: { inputPerMillion: 0, outputPerMillion: 0 },
        checkModelListed: true,
      };
    case "llama": {
      // In-process: the "base URL" is the GGUF reference; local models cost nothing.
      const threads = Number(env.KODERZ_LLAMA_THREADS);
      return {
        id: modelId,
        provider: "llama",
        providerModel: name,
        baseUrl: name,
        prices: { inputPerMillion: 0, outputPerMillion: 0 },
        checkModelListed: false,
        ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}),
      };
    }
    case "openai-compatible": {
      const at = name.lastIndexOf("@http");
      if (at > 0) return genericSpec(modelId, name.slice(0, at), name.slice(at + 1));
      if (baseUrl) return genericSpec(modelId, name, baseUrl);
      throw new KoderzError(
        "usage",
        `model "${modelId}" does not say where the server is`,
        `write it as openai-compatible:${name}@http://localhost:8000/v1, or give "${modelId}" a baseUrl in koderz.config.json`,
      );
    }
    default:
      return undefined;
  }
}


/**
 * One line per preset model the config file sends to another server: which file, which model,
 * where, and with which key, for the command to print before anything is sent.
 */
export function configRedirects(config: ModelConfig, env: Env = process.env): string[] {
  const lines: string[] = [];
  for (const [modelId, entry] of Object.entries(config.models)) {
    const preset = entry.baseUrl ? presetOrNothing(modelId, env) : undefined;
    if (!preset || sameUrl(entry.baseUrl!, preset.baseUrl)) continue;
    const key = entry.apiKeyEnv === null ? "no key" : `key ${entry.apiKeyEnv ?? preset.apiKeyEnv ?? "none"}`;
    lines.push(`${config.source}: ${modelId} goes to ${entry.baseUrl} instead of ${preset.baseUrl} (${key})`);
  }
  return lines;
}

/** A preset's server and key before any config file's entry (undefined for a model a file adds). */
export function presetEndpoint(modelId: string, env: Env = process.env): { baseUrl: string; apiKeyEnv?: string } | undefined {
  return presetOrNothing(modelId, env);
}

function presetOrNothing(modelId: string, env: Env): ModelSpec | undefined {
  try {
    return presetFor(modelId, env, undefined);
  } catch {
    return undefined; // openai-compatible:<name> with no URL of its own: not a preset
  }
}

/** A server of the user's own (vLLM, llama.cpp, LM Studio): no key, no prices unless configured. */
function genericSpec(id: string, providerModel: string, baseUrl: string): ModelSpec {
  return { id, provider: "openai-compatible", providerModel, baseUrl, checkModelListed: false };
}

function applyEntry(base: ModelSpec, entry: ModelEntry): ModelSpec {
  const spec: ModelSpec = { ...base };
  if (entry.provider) spec.provider = entry.provider;
  if (entry.model) spec.providerModel = entry.model;
  if (entry.baseUrl) spec.baseUrl = entry.baseUrl;
  if (entry.apiKeyEnv === null) delete spec.apiKeyEnv;
  else if (entry.apiKeyEnv) spec.apiKeyEnv = entry.apiKeyEnv;
  if (entry.prices) spec.prices = { inputPerMillion: entry.prices.input, outputPerMillion: entry.prices.output };
  if (entry.contextLength) spec.contextLength = entry.contextLength;
  if (entry.threads) spec.threads = entry.threads;
  if (entry.batchSize) spec.batchSize = entry.batchSize;
  return spec;
}

function specFromEntry(modelId: string, entry: ModelEntry, env: Env, baseUrl: string | undefined, source = "the config file"): ModelSpec {
  const provider = entry.provider ?? "openai-compatible";
  if (provider === "llama") {
    // "my-coder": { "provider": "llama", "model": "/models/coder.gguf" } names a GGUF file.
    return applyEntry({ ...presetFor(`llama:${entry.model ?? modelId}`, env, undefined)!, id: modelId }, { ...entry, model: undefined });
  }
  const url = entry.baseUrl ?? baseUrl ?? (provider === "ollama" ? env.OLLAMA_HOST || DEFAULT_OLLAMA_HOST : undefined);
  if (!url) {
    throw new KoderzError(
      "bad_input",
      `${source}: model "${modelId}" has no baseUrl`,
      'add "baseUrl": "http://host:port/v1" to its entry (or use a preset form such as openrouter:<model>)',
    );
  }
  const base: ModelSpec =
    provider === "ollama"
      ? { id: modelId, provider, providerModel: modelId, baseUrl: url, prices: { inputPerMillion: 0, outputPerMillion: 0 }, checkModelListed: true }
      : genericSpec(modelId, modelId, url);
  return applyEntry(base, { ...entry, baseUrl: url });
}

function unknownModel(modelId: string, config: ModelConfig): KoderzError {
  const configured = Object.keys(config.models);
  return new KoderzError(
    "usage",
    `unknown model "${modelId}"`,
    `use one of: ${MODEL_ID_FORMS.join(", ")}${configured.length ? `, or from ${config.source}: ${configured.join(", ")}` : ""}; ` +
      "or define it in koderz.config.json; any OpenAI-compatible server is openai-compatible:<model>@<url>",
  );
}

export interface CreateBackendOptions extends ResolveOptions {
  /** Most calls in flight at once for this backend. Default: 4 for hosted APIs, 1 for Ollama. */
  concurrency?: number;
  /** Per-call time limit, the whole stream included. Default: 120 s, 300 s for Ollama. */
  timeoutMs?: number;
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  /** Fine-tuning of backoff (tests make it fast). */
  retry?: Partial<Omit<RetryPolicy, "timeoutMs" | "maxAttempts">>;
  /** Told about each retry, e.g. to print "rate limited, retrying in 4 s" to stderr. */
  onRetry?: (event: RetryEvent & { model: string }) => void;
  /** llama: models: CPU threads (over the config file and KODERZ_LLAMA_THREADS), tokens per sequence, batch size. */
  threads?: number;
  contextSize?: number;
  batchSize?: number;
}

/**
 * The factory everyone calls: a model id in, a ready ModelBackend out. Creating one makes no
 * network call; call `preflight()` once before a run so a bad key or a stopped server fails
 * once, up front. Share the backend between callers: its concurrency limit is per instance.
 */
export function createBackend(modelId: string, options: CreateBackendOptions = {}): ModelBackend {
  const spec = resolveModel(modelId, options);
  const env = options.env ?? process.env;
  const isOllama = spec.provider === "ollama";
  const isLlama = spec.provider === "llama";
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...options.retry,
    // A local model loading into memory, or writing a long answer on a CPU, needs longer.
    timeoutMs: options.timeoutMs ?? (isOllama || isLlama ? 300_000 : DEFAULT_RETRY_POLICY.timeoutMs),
    // An in-process model has no network to be flaky: what fails once fails again.
    maxAttempts: options.maxAttempts ?? (isLlama ? 1 : DEFAULT_RETRY_POLICY.maxAttempts),
  };
  // Ollama queues parallel requests itself (OLLAMA_NUM_PARALLEL, often 1); sending more only
  // starts their timeouts early while they wait in its queue.
  // llama: calls share one CPU: two sequences keep it busy without multiplying the context's memory.
  const concurrency = options.concurrency ?? (isOllama ? 1 : isLlama ? 2 : 4);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new KoderzError("usage", `concurrency must be a whole number of at least 1, not ${concurrency}`, "pass --concurrency 1 or more");
  }
  const threads = options.threads ?? spec.threads;
  const contextSize = options.contextSize ?? spec.contextLength;
  const batchSize = options.batchSize ?? spec.batchSize;
  const transport = isLlama
    ? llamaTransport({
        modelId: spec.id,
        reference: spec.providerModel,
        // One sequence per call that may run at once; they share the one loaded model.
        settings: {
          sequences: concurrency,
          ...(threads !== undefined ? { threads } : {}),
          ...(contextSize !== undefined ? { contextSize } : {}),
          ...(batchSize !== undefined ? { batchSize } : {}),
        },
      })
    : isOllama
    ? ollamaTransport({
        modelId: spec.id,
        providerModel: spec.providerModel,
        host: spec.baseUrl,
        ...(spec.contextLength !== undefined ? { contextLength: spec.contextLength } : {}),
      })
    : openAICompatibleTransport({
        modelId: spec.id,
        providerModel: spec.providerModel,
        baseUrl: spec.baseUrl,
        checkModelListed: spec.checkModelListed,
        ...(spec.apiKeyEnv ? { apiKeyEnv: spec.apiKeyEnv } : {}),
        ...(spec.apiKeyEnv && env[spec.apiKeyEnv] ? { apiKey: env[spec.apiKeyEnv] } : {}),
      });
  return managedBackend(transport, {
    retry,
    concurrency,
    ...(spec.prices ? { prices: spec.prices } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}
