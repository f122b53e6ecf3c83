/**
 * Verdict words that mean the sandbox, not the program, stopped an executable check: a thread
 * or process it could not start (RLIMIT_NPROC, the pids limit). Such a criterion is undecided
 * (an infrastructure failure), not failed: a racy class should not be scored as fine, nor a
 * correct one as wrong, because the machine was busy. A program that prints these words itself
 * gains nothing: an undecided criterion counts 0 and its case cannot pass.
 */
const SANDBOX_LIMITS: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /can't start new thread/, what: "could not start a thread" },
  { pattern: /sandbox could not start the program/, what: "could not start the program" },
  { pattern: /BlockingIOError: \[Errno 11\]|Resource temporarily unavailable/, what: "could not start a process" },
];

/** The infrastructure failure a failed check's verdict shows, or undefined when it is the code's. */
export function sandboxLimitOf(verdict: { passed: boolean; result: string }): string | undefined {
  if (verdict.passed) return undefined;
  const limit = SANDBOX_LIMITS.find(({ pattern }) => pattern.test(verdict.result));
  return limit && `infrastructure: the sandbox ${limit.what} (${verdict.result.split("\n")[0]!.slice(0, 160)}); a limit of the sandbox, not a fault of the code: score the case again on a less busy machine`;
}
