/**
 * Progress for long commands (benchmark, evaluate, train-meta): on a terminal a bar redraws in
 * place; without one (a pipe, a CI log, nohup) a plain line every `every` items or every 10 s,
 * whichever comes first, so a log shows the work is moving without flooding it.
 */

/** Seconds left as "42s", "9m05s" or "1h02m"; "-" while it cannot be told (nothing done yet, a stalled rate). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  // Rounded once, then split: 599.6 s is 10m00s, never 9m60s.
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** The time left at the rate so far: items done in `elapsedSeconds`, `remaining` to go. */
export function etaSeconds(done: number, remaining: number, elapsedSeconds: number): number {
  if (done <= 0 || elapsedSeconds <= 0) return Number.NaN;
  return (remaining * elapsedSeconds) / done;
}

export interface PlainProgress {
  /** Told after each item; writes a line when `every` items or 10 s have passed since the last one, and at the end. */
  update(done: number, total: number, detail: string): void;
}

/** Lines on stderr for a stream that is not a terminal. `now` is injectable for tests. */
export function plainProgress(
  what: string,
  options: { every?: number; intervalMs?: number; write?: (line: string) => void; now?: () => number } = {},
): PlainProgress {
  const every = options.every ?? 10;
  const intervalMs = options.intervalMs ?? 10_000;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const started = now();
  let lastAt = started;
  let lastDone = 0;
  let firstDone: number | undefined;
  return {
    update(done, total, detail) {
      firstDone ??= done - 1;
      const at = now();
      if (done - lastDone < every && at - lastAt < intervalMs && done < total) return;
      lastAt = at;
      lastDone = done;
      const eta = formatEta(etaSeconds(done - firstDone, total - done, (at - started) / 1000));
      write(`${what} ${done}/${total}${detail ? `, ${detail}` : ""}${done < total ? `, eta ${eta}` : ""}\n`);
    },
  };
}
