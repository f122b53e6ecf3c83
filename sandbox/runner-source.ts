import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where sandbox/runner.py is: beside this module when run from source (tests), or two levels
 * up from dist/sandbox/ when run from the compiled build (tsc does not copy .py files).
 */
export function runnerPath(): string {
  const candidates = [new URL("./runner.py", import.meta.url), new URL("../../sandbox/runner.py", import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`sandbox/runner.py not found beside ${fileURLToPath(import.meta.url)}; the package is incomplete`);
}

let cachedSource: string | undefined;

/** The runner's source, passed to `python3 -c` in the container (its root fs is read-only). */
export function runnerSource(): string {
  cachedSource ??= readFileSync(runnerPath(), "utf8");
  return cachedSource;
}
