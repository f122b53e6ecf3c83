import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { testDataDir } from "../fixtures/datasets.js";

/**
 * A temp folder for tests that load datasets the way users do: from the shared datasets
 * (KODERZ_DATA_DIR), never downloading (KODERZ_OFFLINE), with a cache of their own inside the
 * folder. `restore` puts the environment back and removes the folder.
 */
export function enterOfflineWorkDir(prefix: string): { dir: string; restore(): void } {
  const savedEnv = { ...process.env };
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  process.env.KODERZ_DATA_DIR = testDataDir;
  process.env.KODERZ_OFFLINE = "1";
  process.env.KODERZ_CACHE_DIR = path.join(dir, "cache");
  return {
    dir,
    restore() {
      process.env = savedEnv;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
