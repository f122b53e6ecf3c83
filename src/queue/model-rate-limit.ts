import type pg from "pg";
import { KoderzError } from "../errors.js";
import type { ChatRequest, ChatResponse, ModelBackend } from "../llm/types.js";
import { retryWhileUnreachable } from "../store/index.js";

/**
 * A per-model rate limit shared by every worker through the database, so ten workers on ten
 * machines together start no more than N calls a minute to a provider (instead of each
 * sending N and drawing a storm of 429s). Each call reserves the model's next free slot in one
 * atomic UPDATE and waits for it; calls are spaced evenly, 60/N seconds apart. Models without
 * a row are not limited. Answers reused from the call log (--cache, --replay) never reach the
 * backend, so they take no slot.
 */

type Db = Pick<pg.Pool, "query">;

/** Sets (or changes) a model's limit for every worker on the database. */
export async function setModelRateLimit(db: Db, model: string, callsPerMinute: number): Promise<void> {
  await db.query(
    `INSERT INTO model_rate_limits (model, calls_per_minute, next_call_at) VALUES ($1, $2, now())
     ON CONFLICT (model) DO UPDATE SET calls_per_minute = EXCLUDED.calls_per_minute`,
    [model, callsPerMinute],
  );
}

/** Reserves the model's next call slot; returns how long to wait for it (0 when the model has no limit). */
export async function reserveCallSlot(db: Db, model: string): Promise<number> {
  const result = await retryWhileUnreachable(() =>
    db.query<{ wait_ms: number }>(
      `UPDATE model_rate_limits
       SET next_call_at = GREATEST(next_call_at, now()) + (60000.0 / calls_per_minute) * interval '1 millisecond'
       WHERE model = $1
       RETURNING GREATEST(EXTRACT(EPOCH FROM (next_call_at - now())) * 1000 - 60000.0 / calls_per_minute, 0)::float8 AS wait_ms`,
      [model],
    ),
  );
  return result.rows[0]?.wait_ms ?? 0;
}

export function withSharedRateLimit(backend: ModelBackend, db: Db): ModelBackend {
  return {
    model: backend.model,
    preflight: () => backend.preflight(),
    async chat(request: ChatRequest): Promise<ChatResponse> {
      await sleep(await reserveCallSlot(db, backend.model), request.signal);
      return backend.chat(request);
    },
  };
}

/** Parses --rate-limit MODEL=CALLS_PER_MINUTE. */
export function parseRateLimit(text: string): { model: string; callsPerMinute: number } {
  const at = text.lastIndexOf("=");
  const model = text.slice(0, at).trim();
  const callsPerMinute = Number(text.slice(at + 1));
  if (at <= 0 || !model || !Number.isFinite(callsPerMinute) || callsPerMinute <= 0) {
    throw new KoderzError("usage", `--rate-limit takes MODEL=CALLS_PER_MINUTE (got ${text})`, "e.g. --rate-limit kimi-k2=60");
  }
  return { model, callsPerMinute };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
