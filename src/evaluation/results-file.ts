import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { cannotWrite } from "../output-file.js";

/** Where the reference harness writes its results: next to the samples, "_results.jsonl" appended. */
export function resultsPathFor(samplesFile: string): string {
  return `${samplesFile}_results.jsonl`;
}

/** The verdict of one samples-file line. */
export interface LineResult {
  line: number;
  result: string;
  passed: boolean;
}

const JournalHeader = z.object({ koderzEvaluate: z.string() });
const JournalEntry = z.object({ line: z.number().int().positive(), result: z.string(), passed: z.boolean() });

/**
 * An append-only log of finished verdicts beside the results file ("<results>.partial"). Every
 * verdict is appended the moment it arrives, so a run stopped in any way (Ctrl-C, kill, crash)
 * keeps what it finished; a later run with the same settings picks up from it. The first line
 * names those settings, so a run with another timeout or sandbox starts over instead of mixing.
 */
export class ResultsJournal {
  readonly path: string;

  private constructor(
    path: string,
    readonly finished: Map<number, LineResult>,
    /** Verdicts an earlier run made with other settings, dropped because they no longer apply. */
    readonly dropped: number,
  ) {
    this.path = path;
  }

  /** Opens the journal, keeping earlier verdicts when they were made with the same settings. */
  static open(resultsPath: string, settingsKey: string): ResultsJournal {
    const path = `${resultsPath}.partial`;
    const earlier = readJournal(path);
    if (earlier?.settingsKey === settingsKey) {
      if (earlier.torn) appendTo(path, "\n"); // end a torn line, so the next entry starts clean
      return new ResultsJournal(path, earlier.finished, 0);
    }
    startJournal(path, JSON.stringify({ koderzEvaluate: settingsKey }) + "\n");
    return new ResultsJournal(path, new Map(), earlier?.finished.size ?? 0);
  }

  record(result: LineResult): void {
    this.finished.set(result.line, result);
    appendTo(this.path, JSON.stringify(result) + "\n");
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

function readJournal(path: string): { settingsKey: string; finished: Map<number, LineResult>; torn: boolean } | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const header = JournalHeader.safeParse(parseOrUndefined(lines[0]));
  if (!header.success) return undefined;
  const finished = new Map<number, LineResult>();
  for (const line of lines.slice(1)) {
    // A run killed mid-write leaves at most one torn last line: skip it, it gets re-evaluated.
    const entry = JournalEntry.safeParse(parseOrUndefined(line));
    if (entry.success) finished.set(entry.data.line, entry.data);
  }
  return { settingsKey: header.data.koderzEvaluate, finished, torn: !text.endsWith("\n") };
}

function startJournal(path: string, text: string): void {
  rmSync(path, { force: true });
  appendTo(path, text);
}

/** The journal sits beside the samples file, so a read-only folder or a full disk is named here. */
function appendTo(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (error) {
    throw cannotWrite(path, error);
  }
}

function parseOrUndefined(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Writes the results file: each samples line's object plus "result" and "passed", in input order,
 * for the lines that have a verdict. Written line by line (never as one string, which a large run
 * or a long verdict would take past V8's string limit) to a temp file that is then renamed, so a
 * reader never sees half a file.
 */
export async function writeResultsFile(
  file: string,
  lines: readonly { line: number; fields: Record<string, unknown> }[],
  verdicts: ReadonlyMap<number, LineResult>,
): Promise<number> {
  let written = 0;
  writeLinesAtomically(file, function* () {
    for (const { line, fields } of lines) {
      const verdict = verdicts.get(line);
      if (!verdict) continue;
      written++;
      yield pythonJsonDumps({ ...fields, result: verdict.result, passed: verdict.passed }) + "\n";
    }
  });
  return written;
}

/** Bytes gathered before each write: few system calls, and never more than this in one string. */
const WRITE_CHUNK_CHARS = 1 << 20;

function writeLinesAtomically(file: string, lines: () => Iterable<string>): void {
  const partial = `${file}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fd = openSync(partial, "w");
    let chunk: string[] = [];
    let size = 0;
    for (const line of lines()) {
      chunk.push(line);
      size += line.length;
      if (size >= WRITE_CHUNK_CHARS) {
        writeSync(fd, chunk.join(""));
        chunk = [];
        size = 0;
      }
    }
    writeSync(fd, chunk.join(""));
    closeSync(fd);
    fd = undefined;
    renameSync(partial, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(partial, { force: true });
    throw cannotWrite(file, error);
  }
}

/**
 * JSON as Python's json.dumps writes it by default (", " and ": " separators, non-ASCII escaped),
 * so a results file can be compared byte for byte with the reference harness's.
 */
export function pythonJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"));
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(pythonJsonDumps).join(", ") + "]";
  if (typeof value === "object") {
    return "{" + Object.entries(value).map(([key, item]) => `${pythonJsonDumps(key)}: ${pythonJsonDumps(item)}`).join(", ") + "}";
  }
  return JSON.stringify(String(value));
}
