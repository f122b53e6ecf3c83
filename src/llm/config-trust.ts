import { KoderzError } from "../errors.js";
import type { ModelConfig, ModelEntry } from "./model-config.js";

/**
 * The hosted providers koderz knows, each with its one key variable. A key variable is a secret
 * of the user's; which server gets it is the user's decision, not a file's.
 */
export const HOSTED_PROVIDERS = {
  moonshot: { baseUrl: "https://api.moonshot.ai/v1", apiKeyEnv: "MOONSHOT_API_KEY" },
  chutes: { baseUrl: "https://llm.chutes.ai/v1", apiKeyEnv: "CHUTES_API_KEY" },
  openrouter: { baseUrl: "https://openrouter.ai/api/v1", apiKeyEnv: "OPENROUTER_API_KEY" },
  openai: { baseUrl: "https://api.openai.com/v1", apiKeyEnv: "OPENAI_API_KEY" },
} as const;

/** What a model would be without the entry: a preset's server and key, or nothing (a model the entry adds). */
export interface EndpointBefore {
  baseUrl: string;
  apiKeyEnv?: string;
}

/**
 * A koderz.config.json that koderz merely found in the working directory (a repository just
 * cloned may ship one) may not choose which server gets which of the user's keys. For an entry
 * that adds an endpoint or points a preset at another server, the key it would send must be:
 *  - none (apiKeyEnv null, or a new model with no apiKeyEnv), or
 *  - the variable koderz itself uses for that provider: the preset's own (named in the entry:
 *    a preset redirected without naming it is refused too, as its key would go along silently),
 *    or, for a model the entry adds at a known provider's URL, that provider's.
 * Anything else (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, a made-up PROXY_KEY) takes the user's word:
 * --config FILE, or a yes at the prompt on a terminal (`confirmed`). The refusal names the
 * file, the entry and the variable.
 */
export function checkFoundConfigKey(modelId: string, entry: ModelEntry, before: EndpointBefore | undefined, config: ModelConfig): void {
  if (config.origin !== "working-directory" || entry.provider === "llama" || entry.apiKeyEnv === null) return;
  const problem = foundConfigKeyProblem(modelId, entry, before);
  if (!problem) return;
  throw new KoderzError(
    "bad_input",
    `${config.source} (found in the working directory): its "${modelId}" entry ${problem}`,
    `if you trust that file, pass --config ${config.source} (or answer yes when koderz asks on a terminal); otherwise remove "apiKeyEnv" from the "${modelId}" entry, or set it to null for a server that takes no key`,
  );
}

/** What is wrong with the key a found file's entry would send, or undefined when nothing is. */
export function foundConfigKeyProblem(modelId: string, entry: ModelEntry, before: EndpointBefore | undefined): string | undefined {
  if (entry.provider === "llama" || entry.apiKeyEnv === null) return undefined;
  const url = entry.baseUrl;
  if (before) {
    // A preset: its own key may go to a new server only when the entry names it; no other key may go anywhere.
    const redirected = url !== undefined && !sameUrl(url, before.baseUrl);
    if (entry.apiKeyEnv === undefined) {
      return redirected && before.apiKeyEnv ? `points ${modelId} at ${url} instead of ${before.baseUrl}, which would send it ${before.apiKeyEnv}` : undefined;
    }
    if (entry.apiKeyEnv === before.apiKeyEnv) return undefined;
    return `names ${entry.apiKeyEnv} as the key for ${url ?? before.baseUrl}, a variable koderz does not use for ${modelId} (it uses ${before.apiKeyEnv ?? "no key"})`;
  }
  if (entry.apiKeyEnv === undefined) return undefined;
  const known = Object.values(HOSTED_PROVIDERS).find((provider) => url !== undefined && sameUrl(url, provider.baseUrl));
  if (known?.apiKeyEnv === entry.apiKeyEnv) return undefined;
  return `names ${entry.apiKeyEnv} as the key for ${url ?? "its server"}, a variable koderz does not use for that server${known ? ` (it uses ${known.apiKeyEnv})` : ""}`;
}

/** Every entry of a found file whose key koderz would refuse to send (for a prompt before anything runs). */
export function refusedKeyEntries(config: ModelConfig, before: (modelId: string) => EndpointBefore | undefined): Array<{ modelId: string; problem: string }> {
  if (config.origin !== "working-directory") return [];
  return Object.entries(config.models).flatMap(([modelId, entry]) => {
    const problem = foundConfigKeyProblem(modelId, entry, before(modelId));
    return problem ? [{ modelId, problem }] : [];
  });
}

export function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}
