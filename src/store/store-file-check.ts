import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { KoderzError } from "../errors.js";
import { damaged, directoryGiven } from "./storage-errors.js";

const SQLITE_MAGIC = "SQLite format 3\u0000";

/**
 * A cheap look at the file's 100-byte header before SQLite opens it: a file that is not SQLite
 * at all, or that is shorter than the page count its header declares (a copy or a disk that
 * was cut short), is named at once instead of failing later on the first page that is missing.
 */
export function checkStoreFile(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw directoryGiven(file);
    size = stat.size;
  } catch (error) {
    if (error instanceof KoderzError) throw error;
    return; // a missing file is the caller's business (a new store, or not_found)
  }
  if (size === 0) return; // SQLite's empty database: a new store, or "not a koderz store" when read
  const header = Buffer.alloc(100);
  let read: number;
  try {
    const fd = openSync(file, "r");
    try {
      read = readSync(fd, header, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return; // unreadable: SQLite's own error says so
  }
  if (read < 100 || header.toString("latin1", 0, 16) !== SQLITE_MAGIC) throw damaged(file, "it is not a SQLite database");
  const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  // The page count is valid only when its "version valid for" matches the change counter; with
  // a -wal file beside it the count may lag behind what the WAL holds.
  const countValid = header.readUInt32BE(92) === header.readUInt32BE(24) && pages > 0;
  if (countValid && !existsSync(`${file}-wal`) && size < pages * pageSize) {
    throw damaged(file, `it is cut short (${size} bytes of the ${pages * pageSize} its header declares)`);
  }
}
