import { configRedirects, loadModelConfig, type ModelConfig } from "../llm/index.js";

/**
 * The --config file, or koderz.config.json in the working directory. Every preset model it sends
 * to another server is said on stderr before any model is called, so a redirect is never silent.
 */
export function loadModelConfigAnnounced(configPath: string | undefined, log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): ModelConfig {
  const config = loadModelConfig(configPath ? { path: configPath } : {});
  for (const line of configRedirects(config)) log(line);
  return config;
}
