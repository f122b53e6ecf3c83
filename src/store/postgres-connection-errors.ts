/**
 * Errors that mean "the database went away", not "the query is wrong": the server restarted,
 * is starting up, or the connection broke. Work that hits one is retried on a new connection,
 * so a database restart in the middle of a run loses nothing.
 */
const LOST_CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "57P01", "57P02", "57P03"]);

export function isLostConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (LOST_CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(error.message);
}

/** Runs `work`, retrying it while the database is unreachable, for up to `patienceMs`. */
export async function retryWhileUnreachable<T>(work: () => Promise<T>, patienceMs = 120_000): Promise<T> {
  const giveUpAt = Date.now() + patienceMs;
  for (let delayMs = 200; ; delayMs = Math.min(delayMs * 2, 5_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isLostConnection(error) || Date.now() + delayMs > giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
