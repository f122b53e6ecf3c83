import { z } from "zod";
import { KoderzError } from "../errors.js";
import type { Sample } from "./samples-file.js";

/**
 * Where an outside samples file keeps what producing each sample cost, as named by the user's
 * --iterations-field, --cost-field, --input-tokens-field and --output-tokens-field. A name may
 * be a dotted path into a nested object ("usage.prompt_tokens"); a key that itself contains the
 * dot wins over the path.
 */
export interface MeasureFields {
  iterations?: string;
  costUsd?: string;
  inputTokens?: string;
  outputTokens?: string;
}

/** What producing one sample took, as far as the file says. */
export interface SampleMeasures {
  iterations: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Values for a measure the file does not carry. One sample is one code version, so one
 * iteration; cost and tokens are unknown and recorded as 0 (the import tags the run
 * `cost:unknown` / `tokens:unknown` so nobody mistakes them for free runs).
 */
const UNMEASURED: SampleMeasures = { iterations: 1, costUsd: 0, inputTokens: 0, outputTokens: 0 };

const FLAGS: Record<keyof MeasureFields, string> = {
  iterations: "--iterations-field",
  costUsd: "--cost-field",
  inputTokens: "--input-tokens-field",
  outputTokens: "--output-tokens-field",
};

const count = z.number().int().nonnegative();
const RULES: Record<keyof MeasureFields, { schema: z.ZodType<number>; needs: string }> = {
  iterations: { schema: count, needs: "a whole number >= 0" },
  costUsd: { schema: z.number().nonnegative(), needs: "a number of US dollars >= 0" },
  inputTokens: { schema: count, needs: "a whole number of tokens >= 0" },
  outputTokens: { schema: count, needs: "a whole number of tokens >= 0" },
};

/**
 * Reads the named measures of every sample. A named field that is missing or not a JSON number
 * on any line is an error naming the file, the line and the field: the user asked for that
 * field, so a silent default would make the run's totals wrong without anyone noticing.
 */
export function readSampleMeasures(samples: readonly Sample[], fields: MeasureFields, file: string): Map<number, SampleMeasures> {
  const named = (Object.keys(FLAGS) as (keyof MeasureFields)[]).filter((key) => fields[key] !== undefined);
  const measures = new Map<number, SampleMeasures>();
  for (const sample of samples) {
    const values: SampleMeasures = { ...UNMEASURED };
    for (const key of named) {
      const field = fields[key]!;
      const value = fieldValue(sample.fields, field);
      const parsed = RULES[key].schema.safeParse(value);
      if (!parsed.success) {
        const found = value === undefined ? "is missing" : `is ${JSON.stringify(value)}, not ${RULES[key].needs}`;
        throw new KoderzError(
          "bad_input",
          `${file}:${sample.line}: field "${field}" (${FLAGS[key]}) ${found}`,
          `every line needs "${field}" as a JSON number; fix the line, name the right field with ${FLAGS[key]}, or leave the flag out to record the measure as unknown`,
        );
      }
      values[key] = parsed.data;
    }
    measures.set(sample.line, values);
  }
  return measures;
}

function fieldValue(object: Record<string, unknown>, field: string): unknown {
  if (Object.hasOwn(object, field)) return object[field];
  let current: unknown = object;
  for (const part of field.split(".")) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
