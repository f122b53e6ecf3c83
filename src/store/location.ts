import path from "node:path";

/** Where the store lives unless --db or KODERZ_DB say otherwise (relative to the working directory). */
export const DEFAULT_DB_PATH = path.join("results", "koderz.db");

/** The database file to use: the --db flag first, then KODERZ_DB, then results/koderz.db. */
export function resolveDbPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag?.trim() || env.KODERZ_DB?.trim() || DEFAULT_DB_PATH;
  return path.resolve(chosen);
}
