import { randomUUID } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import { KoderzError } from "../errors.js";

/**
 * One process at a time works on a run. Two `benchmark --resume RUN` started together would
 * each run the problems still missing and pay the models twice (the store keeps only the first
 * verdict, so the second one's spend is simply lost). The lock is a file beside the store,
 * created exclusively, naming its holder; a lock left by a process that died (kill -9, a crash)
 * on this machine is taken over.
 */
const LockHolderSchema = z.object({ pid: z.number().int().positive(), host: z.string(), startedAt: z.string(), token: z.string() });
export type RunLockHolder = z.infer<typeof LockHolderSchema>;

export interface RunLock {
  path: string;
  /** The dead process whose lock was taken over, if any. */
  tookOverFrom?: RunLockHolder;
  release(): void;
}

export function runLockPath(storePath: string, runId: string): string {
  return `${storePath}.${runId}.lock`;
}

export function lockRun(storePath: string, runId: string): RunLock {
  const path = runLockPath(storePath, runId);
  const me: RunLockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), token: randomUUID() };
  let tookOverFrom: RunLockHolder | undefined;
  if (!createExclusively(path, me)) {
    const holder = readHolder(path);
    if (holder && !holderIsGone(holder)) throw lockedBy(runId, holder, path);
    // A dead holder's (or an unreadable) lock: take it over. Two processes doing this at once
    // could both remove it; the one whose token is not in the file afterwards gives way.
    rmSync(path, { force: true });
    if (!createExclusively(path, me) || readHolder(path)?.token !== me.token) {
      const winner = readHolder(path);
      throw winner ? lockedBy(runId, winner, path) : new KoderzError("bad_input", `could not lock run ${runId} (${path})`, "try again");
    }
    tookOverFrom = holder;
  }
  const release = () => {
    if (readHolder(path)?.token === me.token) rmSync(path, { force: true });
    process.off("exit", release);
  };
  // An error that ends the process still releases the lock; only kill -9 leaves it (then it is stale).
  process.on("exit", release);
  return { path, ...(tookOverFrom ? { tookOverFrom } : {}), release };
}

function createExclusively(path: string, holder: RunLockHolder): boolean {
  try {
    writeFileSync(path, JSON.stringify(holder) + "\n", { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function readHolder(path: string): RunLockHolder | undefined {
  try {
    const parsed = LockHolderSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Only a process on this machine can be seen to be gone; one elsewhere is assumed alive. */
function holderIsGone(holder: RunLockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function lockedBy(runId: string, holder: RunLockHolder, path: string): KoderzError {
  return runIsBusy(
    runId,
    { pid: holder.pid, host: holder.host, since: holder.startedAt },
    `wait for it to finish (or stop it), then resume; if that process is gone and is on another machine, remove ${path}`,
  );
}

/** The refusal a second process gets, on either engine: who holds the run, and since when. */
export function runIsBusy(runId: string, holder: { pid: number; host: string; since: string } | undefined, fix: string): KoderzError {
  const who = holder ? `process ${holder.pid} on ${holder.host}, started ${holder.since}` : "another process";
  return new KoderzError("bad_input", `run ${runId} is already being worked on by ${who}`, fix);
}
