import { openStore, type Store } from "../store/index.js";

/**
 * The store as the MCP server reaches it: opened read-only on first use, not at start-up, so
 * a server started before the first benchmark (or pointed at a wrong --db) keeps running and
 * answers each request with the store's own not_found error until the file exists.
 */
export class ReadOnlyStoreAccess {
  private store: Store | undefined;

  constructor(private readonly dbPath?: string) {}

  async use<T>(query: (store: Store) => T | Promise<T>): Promise<T> {
    this.store ??= openStore({ path: this.dbPath, readOnly: true });
    return query(this.store);
  }

  close(): void {
    this.store?.close();
    this.store = undefined;
  }
}
