import { KoderzError } from "../errors.js";
import type { ModelBackend } from "./types.js";

/**
 * Checks every model a command will call, all of them, before it starts: a user missing two
 * keys learns about both at once, instead of fixing one and being stopped by the next.
 * One model not ready: its own error. Several: one error listing each with its fix.
 */
export async function preflightAll(models: readonly (readonly [string, ModelBackend])[]): Promise<void> {
  const outcomes = await Promise.allSettled(models.map(([, backend]) => backend.preflight()));
  const failures = outcomes.flatMap((outcome, i) => (outcome.status === "rejected" ? [{ model: models[i]![0], error: outcome.reason as unknown }] : []));
  if (failures.length === 0) return;
  if (failures.length === 1) throw failures[0]!.error;
  const lines = failures.map(({ model, error }) =>
    error instanceof KoderzError ? `  - ${model}: ${error.message}${error.hint ? `\n      fix: ${error.hint}` : ""}` : `  - ${model}: ${String(error)}`,
  );
  throw new KoderzError("model_unavailable", `${failures.length} of the ${models.length} models this run calls are not ready:\n${lines.join("\n")}`, "fix each one as said above, then run the command again");
}
