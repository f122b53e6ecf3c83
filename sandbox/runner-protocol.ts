import { z } from "zod";
import type { Program } from "./sandbox.js";

/**
 * The line protocol of sandbox/runner.py, the Python process that runs a batch inside any
 * sandbox. Programs go in on its stdin, one JSON object a line; verdicts come back on its
 * stdout the same way. Its output is untrusted data (programs run under it), so every line is
 * checked with zod.
 */

/** Limits for each program; the same whichever sandbox runs it. */
export interface ProgramLimits {
  /** Address space a program may add to the warm interpreter's own. */
  memoryBytes: number;
  /** What the program prints that is kept for Verdict.output. */
  outputBytes: number;
  /** Largest file a program may write. */
  fileSizeBytes: number;
  /** RLIMIT_NPROC: processes of the sandbox user (it only binds a non-root user). */
  maxProcesses: number;
}

export const DEFAULT_PROGRAM_LIMITS: ProgramLimits = {
  memoryBytes: 1024 * 1024 * 1024,
  outputBytes: 4096,
  fileSizeBytes: 16 * 1024 * 1024,
  maxProcesses: 64,
};

/** What the runner reads from its first argument. */
export interface RunnerConfig extends ProgramLimits {
  workers: number;
  /** Where each program gets its own fresh directory (a tmpfs in Docker). */
  workRoot: string | null;
  /**
   * When the runner is root and this is set, programs run under uids of their own, one per
   * worker slot (if such a uid can still read Python), drawn at random by the runner so that
   * no two runners on a host share one; everything of a slot's uid dies between two programs.
   */
  programUidBase: number | null;
}

/** Programs run as uids PROGRAM_UID_BASE + slot: no user of the image or a host has them. */
export const PROGRAM_UID_BASE = 61000;

/** A program as the runner takes it. */
export function encodeProgram(program: Program): string {
  return (
    JSON.stringify({
      id: program.id,
      source: program.source,
      timeout: program.timeoutSeconds,
      check: program.check,
      judgeSetup: program.judgeSetup,
      entryPoint: program.entryPoint,
    }) + "\n"
  );
}

/** Tells the runner to start no more programs; those running still get their verdicts. */
export const STOP_LINE = JSON.stringify({ stop: true }) + "\n";

const readySchema = z.object({
  ready: z.literal(true),
  python: z.string(),
  warm: z.array(z.string()),
  uid: z.number(),
  programUids: z.boolean(),
  pid1: z.boolean(),
  /** Each program has an IPC namespace of its own (its SysV objects and POSIX queues die with it); unsaid: none. */
  programIpc: z.boolean().default(false),
  /** Each program runs under the runner's seccomp filter (no namespaces, mounts, BPF, ...); unsaid: none. */
  syscallFilter: z.boolean().default(false),
});

/** A verdict's text is cut here (the runner cuts it too): a 60 MB exception message stays the program's. */
export const RESULT_CHARS = 4096;

/** As the runner words a cut text. */
export function cutText(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}... [cut at ${limit} characters]`;
}

const verdictSchema = z.object({
  id: z.string(),
  status: z.enum(["passed", "failed", "timed out"]),
  result: z.string().transform((text) => cutText(text, RESULT_CHARS)),
  durationMs: z.number(),
  output: z.string(),
});

export type RunnerReady = z.infer<typeof readySchema>;
export type RunnerVerdict = z.infer<typeof verdictSchema>;
export type RunnerMessage = { kind: "ready"; ready: RunnerReady } | { kind: "verdict"; verdict: RunnerVerdict };

/** Parses one stdout line of the runner; null when the line is not a protocol message. */
export function parseRunnerLine(line: string): RunnerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const ready = readySchema.safeParse(value);
  if (ready.success) return { kind: "ready", ready: ready.data };
  const verdict = verdictSchema.safeParse(value);
  if (verdict.success) return { kind: "verdict", verdict: verdict.data };
  return null;
}
