import type { ModelConfig } from "./model-config.js";

/**
 * The embedded default: a small coder model run in process, for a machine with neither an Ollama
 * server nor an API key, so the main command works there with no setup (it downloads ~1 GB once).
 */
export const EMBEDDED_DEFAULT_MODEL = "llama:hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf";

const API_KEY_VARIABLES = ["MOONSHOT_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "CHUTES_API_KEY"] as const;
/** The key the default frontier model (Kimi K2) needs. */
const FRONTIER_KEY = "MOONSHOT_API_KEY";

type Env = Record<string, string | undefined>;

export interface ModelsGiven {
  localModel?: string;
  frontierModel?: string;
}

export interface DefaultModelChoice extends ModelsGiven {
  /** One line for stderr when koderz picked a model the user did not name. */
  notice?: string;
}

/**
 * Fills in the models the user did not name, when the usual defaults (a local Qwen through
 * Ollama, Kimi K2 as the frontier model) cannot work here:
 * - no --local-model, no Ollama answering and no API key: every agent uses the embedded default
 *   (or koderz.config.json's "defaultModel");
 * - a llama: local model, no --frontier-model and no Moonshot key: the frontier agents use the
 *   same in-process model rather than failing on the missing key.
 * Otherwise it leaves both unset, and the usual defaults apply.
 */
export async function chooseDefaultModels(
  given: ModelsGiven,
  options: { config: ModelConfig; env?: Env; ollamaAnswers?: () => Promise<boolean> },
): Promise<DefaultModelChoice> {
  const env = options.env ?? process.env;
  const hasKey = API_KEY_VARIABLES.some((name) => env[name]?.trim());
  if (!given.localModel && !hasKey && !(await (options.ollamaAnswers ?? (() => ollamaAnswers(env)))())) {
    const model = options.config.defaultModel ?? EMBEDDED_DEFAULT_MODEL;
    return {
      localModel: model,
      frontierModel: given.frontierModel ?? model,
      notice:
        `no Ollama at ${ollamaHost(env)} and no API key found: ${given.frontierModel ? "the local agents use" : "every agent uses"} ${model}, in process ` +
        `(pick another with --local-model ID, or "defaultModel" in koderz.config.json)`,
    };
  }
  if (given.localModel?.startsWith("llama:") && !given.frontierModel && !env[FRONTIER_KEY]?.trim()) {
    return {
      ...given,
      frontierModel: given.localModel,
      notice: `no ${FRONTIER_KEY}: the frontier agents (Planner, Reviewer, checkpoints) use ${given.localModel} too (pick another with --frontier-model ID)`,
    };
  }
  return given;
}

function ollamaHost(env: Env): string {
  const host = env.OLLAMA_HOST?.trim() || "http://127.0.0.1:11434";
  return /^https?:\/\//.test(host) ? host : `http://${host}`;
}

/** Whether an Ollama server answers within a moment; any failure counts as no. */
async function ollamaAnswers(env: Env): Promise<boolean> {
  try {
    const response = await fetch(`${ollamaHost(env)}/api/version`, { signal: AbortSignal.timeout(1500) });
    return response.ok;
  } catch {
    return false;
  }
}
