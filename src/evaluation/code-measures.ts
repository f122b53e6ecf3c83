import { z } from "zod";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { readPackageFile } from "../package-file.js";
import type { StoredMeasures } from "../store/index.js";
import { pythonString } from "./scorers/python-literal.js";

/**
 * Cyclomatic complexity, Halstead volume and the maintainability index of programs, taken in
 * the sandbox by code-measures.py (beside this file; its docstring gives the formulas). The
 * program is only parsed there, never run, so what it prints can be trusted.
 */
export type CodeMeasuresResult = NonNullable<StoredMeasures["code"]>;

const MeasuresLine = z.union([
  z.strictObject({ cyclomatic: z.number().int().positive(), meanCyclomatic: z.number().positive(), halsteadVolume: z.number().nonnegative(), sloc: z.number().int().nonnegative(), maintainability: z.number().min(0).max(100) }),
  z.strictObject({ error: z.string() }),
]);

/** Seconds to parse and measure one program: plenty, it is never run. */
const MEASURE_SECONDS = 10;

/** The measures of each program, in order; a program that does not parse gets its syntax error. */
export async function measureCode(sandbox: Sandbox, sources: readonly string[], signal?: AbortSignal): Promise<CodeMeasuresResult[]> {
  if (sources.length === 0) return [];
  const measurer = readPackageFile(import.meta.url, "./code-measures.py");
  const verdicts = await sandbox.run(
    sources.map((source, i) => ({ id: `measure#${i}`, source: `${measurer}\n\nprint_measures(${pythonString(source)})\n`, timeoutSeconds: MEASURE_SECONDS })),
    { signal },
  );
  return verdicts.map((verdict) => {
    if (!verdict.passed) return { error: `the measurer did not finish: ${verdict.result}` };
    const last = verdict.output.trimEnd().split("\n").pop() ?? "";
    const parsed = MeasuresLine.safeParse(safeJson(last));
    return parsed.success ? parsed.data : { error: `the measurer printed no measures: ${last.slice(0, 200)}` };
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
