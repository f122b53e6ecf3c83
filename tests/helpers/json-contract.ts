import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { expect } from "vitest";

/**
 * The JSON contract as a script author meets it: a document koderz printed or wrote, checked by
 * a JSON Schema validator (ajv) against its file in docs/schemas/, and its keys camelCase.
 * Tests that already run a command with --json check its output here, so every command's JSON
 * is validated without running the command twice.
 */
const schemasDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "schemas");
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

function validatorOf(name: string): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(path.join(schemasDir, `${name}.schema.json`), "utf8")) as object);
    validators.set(name, validate);
  }
  return validate;
}

/** `value` validates against docs/schemas/<name>.schema.json. */
export function expectValidDocument(name: string, value: unknown): void {
  const validate = validatorOf(name);
  const valid = validate(value);
  expect(valid, `${name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
}

/** Every key of a JSON value, at any depth (pass@k keys and free-form config aside). */
function keysOf(value: unknown, skip: ReadonlySet<string>): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => keysOf(item, skip));
  if (!value || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...(skip.has(key) ? [] : keysOf(inner, skip))]);
}

/** No key has an underscore (values such as a run's free-form config are not keys of the contract). */
export function expectCamelCase(value: unknown, skip: readonly string[] = ["config", "passAtK", "budget", "byAgent", "ladder", "verdicts"]): void {
  expect(keysOf(value, new Set(skip)).filter((key) => key.includes("_"))).toEqual([]);
}

/** A top-level document: it validates, carries schemaVersion 1, and its keys are camelCase. */
export function expectContractDocument(name: string, value: unknown): void {
  expectValidDocument(name, value);
  expect(value).toMatchObject({ schemaVersion: 1 });
  expectCamelCase(value);
}
