import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import type { z } from "zod";
import { KoderzError } from "../src/errors.js";

/** One validated line of a JSON Lines file, with its 1-based line number for error messages. */
export interface JsonlRecord<T> {
  line: number;
  value: T;
  /** The line as JSON.parse gave it, keys in their original order (for writing it back). */
  raw: unknown;
}

/**
 * Reads a .jsonl or .jsonl.gz file and validates every non-blank line with `schema`.
 * The first bad line stops the read with an error naming the file and the line, because a
 * silently skipped line would change which problems (or samples) get evaluated.
 */
export async function readJsonlFile<S extends z.ZodType>(
  path: string,
  schema: S,
  whatEachLineIs: string,
): Promise<JsonlRecord<z.infer<S>>[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new KoderzError("not_found", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const text = isGzip(bytes) ? gunzipOrThrow(bytes, path) : bytes.toString("utf8");
  return parseJsonlText(text, path, schema, whatEachLineIs);
}

/** Parses JSON Lines text already in memory; `source` names it in errors. */
export function parseJsonlText<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  whatEachLineIs: string,
): JsonlRecord<z.infer<S>>[] {
  const records: JsonlRecord<z.infer<S>>[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i]!;
    if (content.trim() === "") continue;
    const line = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(content);
    } catch (error) {
      throw new KoderzError(
        "bad_input",
        `${source}:${line}: not valid JSON (${(error as Error).message})`,
        `each line must be one JSON object (${whatEachLineIs})`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `field "${issue.path.join(".")}": ` : "";
      throw new KoderzError(
        "bad_input",
        `${source}:${line}: ${field}${issue.message}`,
        `each line must be ${whatEachLineIs}`,
      );
    }
    records.push({ line, value: parsed.data, raw: json });
  }
  return records;
}

function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzipOrThrow(bytes: Buffer, path: string): string {
  try {
    return gunzipSync(bytes).toString("utf8");
  } catch (error) {
    throw new KoderzError("bad_input", `${path}: not a readable gzip file (${(error as Error).message})`);
  }
}
