import { runAsWorker } from "synckit";
import { isKoderzError } from "../errors.js";
import { PgStore } from "./postgres-engine.js";
import type { ThreadReply, ThreadRequest } from "./postgres-thread-protocol.js";

/**
 * The worker thread behind PostgresStore: it owns the connection pools and runs each request
 * on the asynchronous engine while the calling thread waits (see synckit).
 */
const stores = new Map<number, PgStore>();
let nextHandle = 1;

async function serve(request: ThreadRequest): Promise<unknown> {
  switch (request.kind) {
    case "open": {
      const store = await PgStore.open(request.url, { mustExist: request.mustExist });
      const handle = nextHandle++;
      stores.set(handle, store);
      return { handle, path: store.path };
    }
    case "close": {
      const store = stores.get(request.handle);
      stores.delete(request.handle);
      await store?.close();
      return undefined;
    }
    case "call": {
      const store = stores.get(request.handle);
      if (!store) throw new Error("the PostgreSQL store was closed");
      const method = (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[request.method];
      if (typeof method !== "function") throw new Error(`no store method ${request.method}`);
      return method.apply(store, request.args);
    }
  }
}

runAsWorker(async (request: ThreadRequest): Promise<ThreadReply> => {
  try {
    return { ok: true, value: await serve(request) };
  } catch (error) {
    // Errors cross the thread as plain data: a KoderzError keeps its code and hint.
    if (isKoderzError(error)) return { ok: false, code: error.code, message: error.message, hint: error.hint };
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
});
