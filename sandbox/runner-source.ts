import { packageFilePath, readPackageFile } from "../src/package-file.js";

/** Where sandbox/runner.py is, from source or from the compiled build (see packageFilePath). */
export function runnerPath(): string {
  return packageFilePath(import.meta.url, "./runner.py");
}

/** The runner's source, passed to `python3 -c` in the container (its root fs is read-only). */
export function runnerSource(): string {
  return readPackageFile(import.meta.url, "./runner.py");
}
