import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { KoderzError } from "../errors.js";

/**
 * The user's model settings: koderz.config.json in the working directory, or --config PATH.
 * Only its "models" key is read here; other parts of koderz may keep their own keys beside it.
 *
 * {
 *   "models": {
 *     "kimi-k2": { "prices": { "input": 0.6, "output": 2.5 } },            // override a preset
 *     "qwen-vllm": {                                                       // a new model
 *       "provider": "openai-compatible", "baseUrl": "http://localhost:8000/v1",
 *       "model": "Qwen/Qwen2.5-Coder-32B-Instruct", "contextLength": 32768
 *     },
 *     "ollama:qwen3-coder:30b": { "contextLength": 32768 }                  // sent to Ollama as num_ctx
 *   }
 * }
 */
export const CONFIG_FILE_NAME = "koderz.config.json";

const EnvNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name, e.g. MY_API_KEY");

export const ModelEntrySchema = z.strictObject({
  provider: z.enum(["openai-compatible", "ollama", "llama"]).optional(),
  /** The name the server knows the model by; defaults to the entry's key. */
  model: z.string().min(1).optional(),
  /** OpenAI-compatible base URL (…/v1), or the Ollama host. */
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** Where the key comes from; null for a server that takes none. */
  apiKeyEnv: EnvNameSchema.nullable().optional(),
  /** Dollars per one million tokens. */
  prices: z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() }).optional(),
  contextLength: z.number().int().positive().optional(),
  /** llama: models: CPU threads and tokens per batch. */
  threads: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().optional(),
});

export type ModelEntry = z.infer<typeof ModelEntrySchema>;

const ConfigFileSchema = z.looseObject({
  models: z.record(z.string().min(1), ModelEntrySchema).optional(),
  /** The model for every agent when no --local-model is given and neither Ollama nor an API key is found. */
  defaultModel: z.string().min(1).optional(),
});

export interface ModelConfig {
  models: Record<string, ModelEntry>;
  defaultModel?: string;
  /** The file it came from, for messages; undefined when there was none. */
  source?: string;
  /**
   * How the file was chosen: named with --config, or merely found in the working directory (a
   * cloned repository may ship one), or found and then confirmed at a prompt on a terminal. A
   * found file may not choose which server gets which of the user's keys (see config-trust.ts).
   */
  origin?: "flag" | "working-directory" | "confirmed";
}

export const EMPTY_MODEL_CONFIG: ModelConfig = { models: {} };

/**
 * Reads the config file: `path` when given (it must exist), else koderz.config.json in `cwd`
 * when present, else no overrides at all.
 */
export function loadModelConfig(options: { path?: string; cwd?: string } = {}): ModelConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = options.path ? resolve(cwd, options.path) : resolve(cwd, CONFIG_FILE_NAME);
  if (!existsSync(file)) {
    if (!options.path) return EMPTY_MODEL_CONFIG;
    throw new KoderzError("not_found", `config file ${file} does not exist`, "check the --config path");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new KoderzError(
      "bad_input",
      `${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      "fix the file's JSON syntax (comments and trailing commas are not allowed)",
    );
  }
  return { ...parseModelConfig(raw, file), origin: options.path ? "flag" : "working-directory" };
}

export function parseModelConfig(raw: unknown, source: string): ModelConfig {
  const result = ConfigFileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.map(String).join(".") || "(top level)";
    throw new KoderzError(
      "bad_input",
      `${source}: ${where}: ${issue.message}`,
      'each entry of "models" may have provider, model, baseUrl, apiKeyEnv, prices {input, output} (dollars per 1M tokens) and contextLength',
    );
  }
  return { models: result.data.models ?? {}, source, ...(result.data.defaultModel ? { defaultModel: result.data.defaultModel } : {}) };
}
