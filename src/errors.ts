/**
 * The one error type koderz raises for anything a user can act on.
 * `code` is stable (tests and scripts match on it); `message` says what was wrong;
 * `hint` says how to fix it. The CLI prints both and exits with `exitCode`.
 */
export type ErrorCode =
  | "usage" // bad flags or arguments: exit 2
  | "bad_input" // a file or value the user gave is malformed
  | "not_found" // a dataset, run, task or file that does not exist
  | "sandbox_unavailable"
  | "model_unavailable" // missing key, unreachable host, unknown model
  | "model_error" // a model call failed after retries
  | "prerequisites_missing" // several of a command's needs (models, dataset, sandbox) at once: each listed with its fix
  | "budget_exhausted"
  | "policy_file"
  | "interrupted"
  | "internal";

export class KoderzError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "KoderzError";
  }

  get exitCode(): number {
    return this.code === "usage" ? 2 : 1;
  }

  /** The text the CLI prints: what was wrong, then how to fix it. */
  toUserText(): string {
    return this.hint ? `error: ${this.message}\n  fix: ${this.hint}` : `error: ${this.message}`;
  }
}

export function isKoderzError(value: unknown): value is KoderzError {
  return value instanceof KoderzError;
}
