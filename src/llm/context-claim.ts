import { z } from "zod";
import type { ModelSpec } from "./registry.js";

/**
 * The context length a server says a model has, where it says one: vLLM lists `max_model_len`
 * in GET /v1/models, OpenRouter and some others `context_length`; Ollama's POST /api/show gives
 * the model's trained length as model_info["<architecture>.context_length"] (what it actually
 * uses is num_ctx, which koderz sends as the model's contextLength). Undefined when the server
 * says nothing koderz can read; never throws: this is advice, not a check that may stop a run.
 */
export async function claimedContextLength(spec: ModelSpec, env: Record<string, string | undefined> = process.env, timeoutMs = 10_000): Promise<number | undefined> {
  try {
    if (spec.provider === "ollama") return await ollamaContextLength(spec, timeoutMs);
    if (spec.provider === "openai-compatible") return await listedContextLength(spec, env, timeoutMs);
  } catch {
    return undefined;
  }
  return undefined;
}

const ListedModels = z.object({
  data: z.array(z.looseObject({ id: z.string(), max_model_len: z.number().int().positive().optional(), context_length: z.number().int().positive().optional() })),
});

async function listedContextLength(spec: ModelSpec, env: Record<string, string | undefined>, timeoutMs: number): Promise<number | undefined> {
  const key = spec.apiKeyEnv ? env[spec.apiKeyEnv] : undefined;
  const response = await fetch(`${spec.baseUrl.replace(/\/+$/, "")}/models`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) return undefined;
  const listed = ListedModels.safeParse(await response.json());
  const entry = listed.data?.data.find((model) => model.id === spec.providerModel);
  return entry?.max_model_len ?? entry?.context_length;
}

const ShowAnswer = z.object({ model_info: z.record(z.string(), z.unknown()).optional() });

async function ollamaContextLength(spec: ModelSpec, timeoutMs: number): Promise<number | undefined> {
  // OLLAMA_HOST may be "host:port" with no scheme, which the ollama client accepts.
  const host = /^https?:\/\//.test(spec.baseUrl) ? spec.baseUrl : `http://${spec.baseUrl}`;
  const response = await fetch(`${host.replace(/\/+$/, "")}/api/show`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: spec.providerModel }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) return undefined;
  const info = ShowAnswer.safeParse(await response.json()).data?.model_info ?? {};
  const entry = Object.entries(info).find(([key, value]) => key.endsWith(".context_length") && typeof value === "number");
  return entry ? (entry[1] as number) : undefined;
}
