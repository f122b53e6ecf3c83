import { existsSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { KoderzError } from "../errors.js";
import { LATEST_SCHEMA_VERSION, schemaVersion } from "./schema.js";
import { damaged, storageError } from "./storage-errors.js";
import { checkStoreFile } from "./store-file-check.js";

/**
 * Opens the store for commands that only read (results, compare, report, view): SQLite's
 * read-only mode, so the file is never written, migrated or created, and a store the user may
 * read but not write still works.
 *
 * SQLite reads a WAL-mode file through its -wal and -shm files beside it. When they do not
 * exist and the folder is not writable (a store on a read-only share, or someone else's), no
 * writer can be active either (it would need them), so the file alone is the whole store: it is
 * read into memory and opened from there.
 */
export function openReadOnlyDatabase(file: string): Database.Database {
  checkStoreFile(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    checkReadableSchema(db, file);
    return db;
  } catch (error) {
    db?.close();
    if (needsSnapshot(error, file)) return openSnapshot(file);
    throw storageError(error, file);
  }
}

function needsSnapshot(error: unknown, file: string): boolean {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return (code === "SQLITE_READONLY_DIRECTORY" || code === "SQLITE_CANTOPEN") && !existsSync(`${file}-wal`);
}

function openSnapshot(file: string): Database.Database {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new KoderzError("bad_input", `cannot read the store ${file}`, "make the file readable by you, or point --db / KODERZ_DB at another store");
  }
  // Header bytes 18-19 say "WAL"; an in-memory copy has no WAL, so it is read as a plain file.
  if (bytes.length >= 20 && bytes[18] === 2) bytes[18] = bytes[19] = 1;
  try {
    const db = new Database(bytes, { readonly: true });
    checkReadableSchema(db, file);
    return db;
  } catch (error) {
    throw storageError(error, file);
  }
}

function checkReadableSchema(db: Database.Database, file: string): void {
  let version: number;
  try {
    version = schemaVersion(db);
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message)) throw damaged(file, "it is not a koderz store (no schema_version table)");
    throw error;
  }
  if (version > LATEST_SCHEMA_VERSION) {
    throw new KoderzError("bad_input", `the store ${file} has schema version ${version}, newer than this koderz understands (${LATEST_SCHEMA_VERSION})`, "upgrade koderz, or point --db / KODERZ_DB at another file");
  }
  if (version < LATEST_SCHEMA_VERSION) {
    throw new KoderzError("bad_input", `the store ${file} has schema version ${version}, older than this koderz's ${LATEST_SCHEMA_VERSION}`, "upgrade it once with a command that writes (e.g. `koderz results tag RUN upgraded`), then read it");
  }
}
