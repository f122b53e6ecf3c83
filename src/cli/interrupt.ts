/**
 * Ctrl-C for long commands: the first one aborts (what is running finishes or stops, and what
 * finished is saved); a second one quits at once with the conventional exit code 130.
 */
export function interruptOnCtrlC(message: string, log: (message: string) => void): { signal: AbortSignal; dispose(): void } {
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    log(`\n${message} (Ctrl-C again to quit now)`);
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  return { signal: interrupt.signal, dispose: () => process.off("SIGINT", onSigint) };
}

/** Resolves on the first Ctrl-C (or SIGTERM), and stops listening for both. */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
