import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { KoderzError } from "./errors.js";

/**
 * Writes a file the user asked for (a report, an export, a results file) whole or not at all:
 * to a temporary file beside it, then renamed, so a reader never sees half of it. When the
 * write fails (no permission, a full disk, a directory in the way) the temporary file is
 * removed and the error names the file and what to do.
 */
export function writeFileAtomically(file: string, text: string): void {
  const partial = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(partial, text);
    renameSync(partial, file);
  } catch (error) {
    removeIfThere(partial);
    throw cannotWrite(file, error);
  }
}

function removeIfThere(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // its folder is not there or not a folder: then neither is the file
  }
}

/** A failed write said in terms of the file: why, and what to do about it. */
export function cannotWrite(file: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const why: Record<string, [string, string]> = {
    EACCES: ["permission denied", "write it somewhere you may write, or make the folder writable"],
    EPERM: ["permission denied", "write it somewhere you may write, or make the folder writable"],
    EROFS: ["the file system is read-only", "write it to a writable disk"],
    ENOSPC: ["the disk is full", "free space on that disk, or write it to another"],
    EDQUOT: ["the disk quota is exceeded", "free space, or write it to another disk"],
    EISDIR: ["it is a directory", "give a file name, e.g. " + path.join(file, "report.html")],
    ENOTDIR: ["a part of its path is a file, not a folder", "check the path"],
    EEXIST: ["a part of its path is a file, not a folder", "check the path"],
  };
  const known = code ? why[code] : undefined;
  if (!known) return error;
  return new KoderzError("bad_input", `cannot write ${file}: ${known[0]}`, known[1]);
}
