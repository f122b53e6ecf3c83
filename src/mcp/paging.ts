import { createHash } from "node:crypto";
import { z } from "zod";
import { KoderzError } from "../errors.js";

/**
 * Pages and caps for answers that go into an assistant's context. A page holds at most
 * `limit` items and at most MAX_ANSWER_CHARS characters of JSON, whichever comes first;
 * long texts inside an item (prompts, model answers, code) are clipped on their own.
 */

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/** About 15k tokens: a page never crowds out the conversation it is meant to serve. */
export const MAX_ANSWER_CHARS = 60_000;
/** What the rest of an answer (totals, the cursor, field names) may take beside the items; `reservedChars` adds to it. */
const ENVELOPE_CHARS = 4_000;

/** The paging fields every paged tool takes, with zod for the MCP input schema. */
export const pagingInput = {
  cursor: z.string().min(1).optional().describe("nextCursor from the previous page of the same query; omit for the first page"),
  limit: z.number().int().min(1).max(MAX_PAGE_SIZE).optional().describe(`items per page, at most ${MAX_PAGE_SIZE} (default: 50 runs, experiments or memories; 200 problems of a run; 20 steps)`),
};

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface Page<T> {
  items: T[];
  total: number;
  /** null on the last page. */
  nextCursor: string | null;
}

/**
 * One page of `items`. `query` is what the items were selected by (without cursor and
 * limit): a cursor remembers it, so a cursor passed with other filters is refused instead of
 * silently paging through a different list. `sizeOf` measures an item in characters.
 */
export function takePage<T>(
  items: readonly T[],
  request: PageRequest,
  query: unknown,
  options: { defaultSize?: number; sizeOf?: (item: T) => number; reservedChars?: number } = {},
): Page<T> {
  const key = queryKey(query);
  const offset = request.cursor === undefined ? 0 : decodeCursor(request.cursor, key);
  if (offset > items.length) {
    throw new KoderzError("bad_input", "the cursor points past the end of the list (it changed since)", "call the tool again without cursor");
  }
  const limit = request.limit ?? options.defaultSize ?? DEFAULT_PAGE_SIZE;
  const sizeOf = options.sizeOf ?? jsonLength;
  const budget = MAX_ANSWER_CHARS - ENVELOPE_CHARS - (options.reservedChars ?? 0);
  const page: T[] = [];
  let chars = 0;
  for (const item of items.slice(offset, offset + limit)) {
    chars += sizeOf(item) + 1;
    // Always at least one item, or a large item would stall the paging forever.
    if (page.length > 0 && chars > budget) break;
    page.push(item);
  }
  const next = offset + page.length;
  return { items: page, total: items.length, nextCursor: next < items.length ? encodeCursor(next, key) : null };
}

/** The text, or its first `max` characters and a note of how much was left out. */
export function clipText(text: string | undefined, max: number): string | null {
  if (text === undefined) return null;
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [clipped: ${text.length - max} more characters]`;
}

export function jsonLength(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}

const CursorPayload = z.object({ offset: z.number().int().nonnegative(), query: z.string() });

function encodeCursor(offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ offset, query })).toString("base64url");
}

function decodeCursor(cursor: string, query: string): number {
  let payload: z.infer<typeof CursorPayload>;
  try {
    payload = CursorPayload.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new KoderzError("bad_input", `${JSON.stringify(cursor)} is not a cursor this server gave out`, "pass nextCursor exactly as a previous page returned it, or omit cursor");
  }
  if (payload.query !== query) {
    throw new KoderzError("bad_input", "the cursor belongs to a query with other filters", "page with the same filters as the call that returned the cursor");
  }
  return payload.offset;
}

function queryKey(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query ?? null)).digest("hex").slice(0, 16);
}
