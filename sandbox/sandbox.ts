/** A self-contained Python program to run once, untrusted. */
export interface Program {
  /** Caller's key for this program; verdicts come back with the same id. */
  id: string;
  source: string;
  /** Wall-clock limit for this one program, in seconds. */
  timeoutSeconds: number;
  /**
   * Trusted Python that decides the verdict (a hidden test and `check(entry_point)`). It runs
   * outside the program's process and calls the functions `source` defined as plain-data
   * proxies; the program passes when it returns. Without it, the program passes when `source`
   * runs to its end: it then judges itself, so only code koderz trusts may go here.
   */
  check?: string;
  /**
   * Trusted Python the judge runs first in the namespace it builds for `check` (a task's prompt:
   * its imports and helpers), so the test calls the judge's own copy of each helper.
   */
  judgeSetup?: string;
  /**
   * The one function of the program `check` may call (a task's entry point). Without it, every
   * function the program defined is reachable, but never under a builtin's name.
   */
  entryPoint?: string;
}

export type VerdictStatus = "passed" | "failed" | "timed out";

export interface Verdict {
  id: string;
  status: VerdictStatus;
  /** Exactly as the reference HumanEval harness words it: "passed", "failed: <error>" or "timed out". */
  result: string;
  passed: boolean;
  durationMs: number;
  /** What the program printed, cut to a few KiB; for agents' feedback, never for the verdict. */
  output: string;
}

export interface RunOptions {
  /** Programs run at the same time inside the sandbox (default: number of cores). */
  workers?: number;
  /** Called as each verdict arrives, in completion order (progress bars, incremental writes). */
  onVerdict?: (verdict: Verdict) => void;
  /** Aborting stops starting new programs; verdicts already reached are still returned. */
  signal?: AbortSignal;
}

export type SandboxName = "docker" | "process";

/** Runs untrusted programs and returns verdicts, in the order the programs were given. */
export interface Sandbox {
  readonly name: SandboxName;
  run(programs: Program[], options?: RunOptions): Promise<Verdict[]>;
  close(): Promise<void>;
}
