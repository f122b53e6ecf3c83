import envPaths from "env-paths";

/**
 * The user cache directory of koderz (downloaded datasets, measured time limits).
 * KODERZ_CACHE_DIR overrides it, so tests and CI never touch a developer's real cache.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.KODERZ_CACHE_DIR?.trim();
  return override || envPaths("koderz", { suffix: "" }).cache;
}
