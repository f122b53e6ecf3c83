import { expect } from "vitest";
import { KoderzError } from "../../src/errors.js";

/** The KoderzError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<KoderzError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KoderzError);
  return error as KoderzError;
}

/** The KoderzError an action throws; fails the test when it returns or throws anything else. */
export function thrown(action: () => unknown): KoderzError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(KoderzError);
    return error as KoderzError;
  }
  throw new Error("expected a KoderzError");
}
