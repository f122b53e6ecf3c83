import { KoderzError } from "./errors.js";

/**
 * What a command needs before it starts work (its models answering, its dataset, a sandbox
 * engine and image), checked all at once: with nothing configured, a user reads every missing
 * piece and how to fix each in one error, instead of meeting them one run at a time.
 *
 * Each check runs concurrently; when one or more fail, what the others opened is released
 * (a sandbox closed, a checkout removed) and one error lists each failure with its own fix.
 * A single failure is thrown as it is, so its code and wording stay those of the check.
 */
export interface Prerequisite<T> {
  /** What it is, as the error's list names it: "models", "dataset", "sandbox". */
  what: string;
  check(): Promise<T>;
  /** Undo a check that succeeded when another failed (close what it opened). */
  release?(value: T): Promise<void> | void;
}

type Values<T extends readonly Prerequisite<unknown>[]> = { [K in keyof T]: T[K] extends Prerequisite<infer V> ? V : never };

export async function checkPrerequisites<const T extends readonly Prerequisite<unknown>[]>(prerequisites: T): Promise<Values<T>> {
  const outcomes = await Promise.allSettled(prerequisites.map((prerequisite) => prerequisite.check()));
  const failures = outcomes.flatMap((outcome, index) => (outcome.status === "rejected" ? [{ what: prerequisites[index]!.what, error: outcome.reason as unknown }] : []));
  if (failures.length === 0) return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as Values<T>;
  await Promise.allSettled(
    outcomes.map(async (outcome, index) => {
      if (outcome.status === "fulfilled") await prerequisites[index]!.release?.(outcome.value);
    }),
  );
  if (failures.length === 1) throw failures[0]!.error;
  // Something that is not the user's to fix (a bug) is not hidden in a list: it goes up as it is.
  const unexpected = failures.find((failure) => !(failure.error instanceof KoderzError));
  if (unexpected) throw unexpected.error;
  const lines = failures.map(({ what, error }) => {
    const known = error as KoderzError;
    const message = known.message.replace(/\n/g, "\n    ");
    return `  - ${what}: ${message}${known.hint ? `\n      fix: ${known.hint.replace(/\n/g, "\n      ")}` : ""}`;
  });
  throw new KoderzError(
    "prerequisites_missing",
    `${failures.length} of the ${prerequisites.length} things this command needs are missing:\n${lines.join("\n")}`,
    "fix each one as said above (nothing was run or written), then run the command again",
  );
}
