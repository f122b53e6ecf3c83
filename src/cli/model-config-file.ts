import { closeSync, openSync, readSync } from "node:fs";
import { configRedirects, loadModelConfig, presetEndpoint, refusedKeyEntries, type ModelConfig } from "../llm/index.js";

/**
 * The --config file, or koderz.config.json in the working directory. Every preset model it sends
 * to another server is said on stderr before any model is called, so a redirect is never silent.
 * A found file whose entries would send a key where koderz would not is refused when a model is
 * resolved; on a terminal, koderz asks first, and a yes trusts the file for this command.
 */
export function loadModelConfigAnnounced(configPath: string | undefined, log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): ModelConfig {
  const config = confirmFoundKeys(loadModelConfig(configPath ? { path: configPath } : {}));
  for (const line of configRedirects(config)) log(line);
  return config;
}

function confirmFoundKeys(config: ModelConfig): ModelConfig {
  const refused = refusedKeyEntries(config, (modelId) => presetEndpoint(modelId));
  if (refused.length === 0 || !process.stdin.isTTY || !process.stderr.isTTY) return config;
  process.stderr.write(
    `${config.source} was found in the working directory, not named with --config:\n` +
      refused.map(({ modelId, problem }) => `  its "${modelId}" entry ${problem}\n`).join("") +
      "Send those keys there? [y/N] ",
  );
  return /^\s*y(es)?\s*$/i.test(readTerminalLine()) ? { ...config, origin: "confirmed" } : config;
}

/** One line typed at the terminal (synchronously: nothing else runs before the answer). */
function readTerminalLine(): string {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r");
  } catch {
    return "";
  }
  try {
    const buffer = Buffer.alloc(256);
    let line = "";
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read <= 0) return line;
      line += buffer.toString("utf8", 0, read);
      const end = line.indexOf("\n");
      if (end >= 0) return line.slice(0, end);
    }
  } finally {
    closeSync(fd);
  }
}
