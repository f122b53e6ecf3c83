import type Database from "better-sqlite3";
import { z } from "zod";
import { KoderzError } from "../errors.js";
import type { CallLog, ChatResponse, LoggedCall } from "../llm/types.js";

/**
 * Which logged answers lookup() may reuse:
 * - "cache": the newest successful answer to the same request from any run (--cache);
 * - "replay": only answers recorded by `replayRunId` (--replay), so a replay can never be
 *   contaminated by another run's answers.
 */
export interface CallLogOptions {
  /** The run the new calls belong to (recorded on each row). */
  runId?: string;
  /** The experiment the new calls belong to; its row may not be committed yet. */
  experimentId?: string;
  scope: "cache" | "replay";
  replayRunId?: string;
}

// The answer as it was logged; checked because an old or hand-edited database may hold anything.
const ToolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
  argumentsError: z.string().optional(),
});
const ChatResponseSchema = z.object({
  text: z.string(),
  toolCalls: z.array(ToolCallSchema).default([]),
  usage: z.object({ input: z.number(), output: z.number() }),
  latencyMs: z.number(),
  timeToFirstTokenMs: z.number().optional(),
  model: z.string(),
  costUsd: z.number(),
  cached: z.boolean().optional(),
  recordedCostUsd: z.number().optional(),
});

export class StoreCallLog implements CallLog {
  private readonly insert: Database.Statement;
  private readonly newest: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly options: CallLogOptions,
  ) {
    if (options.scope === "replay" && !options.replayRunId) {
      throw new KoderzError("usage", "a replay call log needs the run to replay", "pass --replay RUN_ID");
    }
    this.insert = db.prepare(`
      INSERT INTO model_calls (request_hash, run_id, experiment_id, model, request, response,
        input_tokens, output_tokens, cost_usd, latency_ms, error, created_at)
      VALUES (@requestHash, @runId, @experimentId, @model, @request, @response,
        @inputTokens, @outputTokens, @costUsd, @latencyMs, @error, @createdAt)`);
    // Newest first by call_id (insertion order), which unlike created_at cannot tie.
    this.newest = db.prepare(`
      SELECT response FROM model_calls
      WHERE request_hash = @hash AND response IS NOT NULL AND error IS NULL
        AND (@replayRunId IS NULL OR run_id = @replayRunId)
      ORDER BY call_id DESC LIMIT 1`);
  }

  record(call: LoggedCall): void {
    this.insert.run({
      requestHash: call.requestHash,
      runId: this.options.runId ?? null,
      experimentId: this.options.experimentId ?? null,
      model: call.model,
      request: call.request,
      response: call.response ?? null,
      inputTokens: call.inputTokens,
      outputTokens: call.outputTokens,
      costUsd: call.costUsd,
      latencyMs: call.latencyMs,
      error: call.error ?? null,
      createdAt: call.createdAt,
    });
  }

  lookup(requestHash: string): ChatResponse | undefined {
    const replayRunId = this.options.scope === "replay" ? this.options.replayRunId! : null;
    const row = this.newest.get({ hash: requestHash, replayRunId }) as { response: string } | undefined;
    return row ? loggedResponse(row.response) : undefined;
  }
}

/** A logged answer as a reused response (cost 0 now, the original cost kept), or undefined when the entry is unreadable. */
export function loggedResponse(logged: string): ChatResponse | undefined {
  const parsed = ChatResponseSchema.safeParse(parseJson(logged));
  // An unreadable entry is a miss, not a crash: the caller then asks the model (cache) or
  // reports the missing answer (replay).
  if (!parsed.success) return undefined;
  const { timeToFirstTokenMs, recordedCostUsd, toolCalls, ...rest } = parsed.data;
  // Reusing an answer costs nothing now; what it cost when first obtained is kept beside it
  // (an answer logged from a cache hit already carries that original cost).
  const response: ChatResponse = {
    ...rest,
    toolCalls: toolCalls.map(({ argumentsError, ...call }) =>
      argumentsError === undefined ? { ...call } : { ...call, argumentsError },
    ),
    costUsd: 0,
    recordedCostUsd: recordedCostUsd ?? rest.costUsd,
    cached: true,
  };
  if (timeToFirstTokenMs !== undefined) response.timeToFirstTokenMs = timeToFirstTokenMs;
  return response;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
