import type { Store } from "./engine.js";
import { isPostgresUrl } from "./postgres-url.js";
import { PostgresStore } from "./postgres-store.js";
import { SqliteStore, type OpenStoreOptions } from "./store.js";

/**
 * Opens (creating and migrating if needed) the store named by --db, else KODERZ_DB, else
 * results/koderz.db: a postgres:// (or postgresql://) URL opens the shared PostgreSQL engine,
 * anything else is an SQLite file.
 */
export function openStore(options: OpenStoreOptions = {}): Store {
  const location = options.path?.trim() || process.env.KODERZ_DB?.trim() || "";
  if (isPostgresUrl(location)) return PostgresStore.open(location, { mustExist: Boolean(options.mustExist || options.readOnly) });
  return SqliteStore.open(options);
}
