import { statSync } from "node:fs";
import { KoderzError } from "../errors.js";

/**
 * SQLite's failures, said in terms of the store file a user can act on: a damaged or foreign
 * file, a directory given as --db, a full disk, a file they may not write. Anything else is
 * passed on unchanged.
 */
export function storageError(error: unknown, file: string): unknown {
  if (error instanceof KoderzError) return error;
  const code = sqliteCode(error);
  if (code === undefined) return error;
  if (isDirectory(file)) return directoryGiven(file);
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_IOERR_SHORT_READ") {
    return damaged(file);
  }
  if (code === "SQLITE_FULL" || (code.startsWith("SQLITE_IOERR") && /disk|full|space/i.test(messageOf(error)))) {
    return new KoderzError("bad_input", `cannot write the store ${file}: the disk is full`, "free space on that disk, or put the store on another with --db / KODERZ_DB; what was committed before is intact");
  }
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_CANTOPEN" || code === "SQLITE_PERM" || code === "SQLITE_AUTH") {
    return new KoderzError(
      "bad_input",
      `cannot ${code === "SQLITE_CANTOPEN" ? "open" : "write"} the store ${file} (${code})`,
      "this command writes to the store: make the file and its folder writable by you, or point --db / KODERZ_DB at a store you own (results, compare, report and view only read)",
    );
  }
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new KoderzError("bad_input", `the store ${file} stayed locked by another koderz process`, "wait for it to finish, or use another --db");
  }
  return error;
}

export function directoryGiven(file: string): KoderzError {
  return new KoderzError("bad_input", `--db ${file} is a directory, not a store file`, `give the store's file, e.g. --db ${file.replace(/\/$/, "")}/koderz.db`);
}

export function damaged(file: string, detail = "it is damaged or not a koderz store"): KoderzError {
  return new KoderzError(
    "bad_input",
    `cannot read the store ${file}: ${detail}`,
    "check --db / KODERZ_DB names the right file; if it was cut short (a full disk, a partial copy), restore it from a backup, or move it aside and koderz starts a new store there",
  );
}

/**
 * Wraps an object whose methods read or write the database, so a failure in any of them comes
 * out as storageError's message: a disk that fills in the middle of a benchmark is reported
 * like one found at open. Works for methods that return promises too.
 */
export function withStorageErrors<T extends object>(target: T, file: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return function (this: unknown, ...args: unknown[]) {
        try {
          const result: unknown = value.apply(this === receiver ? object : this, args);
          return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(storageError(error, file))) : result;
        } catch (error) {
          throw storageError(error, file);
        }
      };
    },
  });
}

function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== "SqliteError") return undefined;
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
