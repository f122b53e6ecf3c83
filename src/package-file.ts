import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KoderzError } from "./errors.js";

/**
 * Where a file that ships with koderz beside a module's source (a .py, .js, .html or .css that
 * tsc does not copy) is: beside the module when it runs from source (tests), or at the same place
 * outside dist/ when it runs from the compiled build (dist/sandbox/x.js finds sandbox/runner.py).
 */
export function packageFilePath(moduleUrl: string, relativePath: string): string {
  const beside = fileURLToPath(new URL(relativePath, moduleUrl));
  const dist = `${path.sep}dist${path.sep}`;
  const at = beside.lastIndexOf(dist);
  const candidates = at < 0 ? [beside] : [beside, beside.slice(0, at + 1) + beside.slice(at + dist.length)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found) return found;
  throw new KoderzError("internal", `${candidates.join(" and ")} not found: the koderz package is incomplete`, "install koderz again (npm ci)");
}

const cache = new Map<string, string>();

/** The text of such a file, read once per process. */
export function readPackageFile(moduleUrl: string, relativePath: string): string {
  const file = packageFilePath(moduleUrl, relativePath);
  let text = cache.get(file);
  if (text === undefined) {
    text = readFileSync(file, "utf8");
    cache.set(file, text);
  }
  return text;
}
