import { existsSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

/**
 * Writes a file that holds finished work (a run summary, a trained policy): where it was asked
 * for, or, when that fails, in the system's temporary folder, saying both why and where. The
 * work it records was paid for; a full disk or a folder made read-only meanwhile must not lose
 * it. Returns the path it was written to.
 */
export function writeFileOrFallback(file: string, text: string, say: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): string {
  try {
    writeFileAtomically(file, text);
    return file;
  } catch (error) {
    const fallback = path.join(mkdtempSync(path.join(tmpdir(), "koderz-")), path.basename(file));
    writeFileSync(fallback, text);
    const why = error instanceof KoderzError ? error.message : String(error);
    say(`warning: ${why}; wrote it to ${fallback} instead`);
    return fallback;
  }
}

/** procfs, sysfs, debugfs, cgroup: writes there are not files, and some block forever. */
const SPECIAL_FILE_SYSTEMS = new Set([0x9fa0, 0x62656572, 0x64626720, 0x27e0eb, 0x63677270, 0x73636673, 0x1cd1]);

/**
 * Checks, before any model is called or any training starts, that `dir` (a folder koderz will
 * write into, e.g. --results-dir) can be written: it is created if missing, and a probe file is
 * written and removed. A folder on a special file system (/proc, /sys) is refused without
 * writing there. `flag` names the option in the error.
 */
export function checkWritableDir(dir: string, flag: string, given: string = dir): void {
  const absolute = path.resolve(dir);
  refuseSpecialFileSystem(absolute, flag, given);
  const probe = path.join(absolute, `.koderz-write-check.${process.pid}`);
  // The check leaves nothing behind: folders it had to make go again, so a run that then stops
  // (a model not ready) leaves no empty results/ folder; the write itself makes them once more.
  let created: string | undefined;
  try {
    created = mkdirSync(absolute, { recursive: true });
    writeFileSync(probe, "");
  } catch (error) {
    removeIfThere(probe);
    if (created) rmSync(created, { recursive: true, force: true });
    throw unwritable(flag, given, error);
  }
  removeIfThere(probe);
  if (created) rmSync(created, { recursive: true, force: true });
}

/** As checkWritableDir, for a file koderz will write (--output, --out, --metrics): its folder, and that it is not a folder itself. */
export function checkWritableFile(file: string, flag: string): void {
  const absolute = path.resolve(file);
  if (existsSync(absolute) && statSync(absolute).isDirectory()) {
    throw new KoderzError("usage", `${flag} ${file} is a directory`, `give a file name, e.g. ${path.join(file, "out.json")}`);
  }
  checkWritableDir(path.dirname(absolute), flag, file);
}

function refuseSpecialFileSystem(absolute: string, flag: string, given: string): void {
  // The nearest folder that exists says which file system the path is on.
  let existing = absolute;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  let type: number | undefined;
  try {
    type = statfsSync(existing).type;
  } catch {
    return; // cannot tell: the write check says the rest
  }
  const real = safeRealpath(existing);
  if (SPECIAL_FILE_SYSTEMS.has(type) || /^\/(proc|sys)(\/|$)/.test(real)) {
    throw new KoderzError("usage", `${flag} ${given} is on a special file system (${real.split("/").slice(0, 2).join("/") || real}), not a disk`, "write it to a folder on a disk, e.g. results/");
  }
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function unwritable(flag: string, given: string, error: unknown): KoderzError {
  const said = cannotWrite(given, error);
  const reason = said instanceof KoderzError ? said.message.replace(`cannot write ${given}: `, "") : ((error as NodeJS.ErrnoException | undefined)?.code ?? String(error));
  const hint = said instanceof KoderzError && said.hint ? said.hint : "choose a folder you may write";
  return new KoderzError("usage", `${flag} ${given} cannot be written (${reason}); nothing was run`, hint);
}
