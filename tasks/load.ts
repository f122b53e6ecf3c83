import path from "node:path";
import { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { correctedTest } from "./dataset-errata.js";
import { locateSuiteFile, requireDatasetFile, type LocateOptions } from "./dataset-location.js";
import { extractVisibleExamples } from "./docstring-examples.js";
import { readJsonlFile } from "./jsonl.js";
import type { SuiteName, Task } from "./task.js";

/** One line of a HumanEval-format dataset (HumanEval, HumanEval+ OriginFmt); other fields are ignored. */
const DatasetLine = z.looseObject({
  task_id: z.string().min(1),
  prompt: z.string(),
  entry_point: z.string().regex(/^[A-Za-z_]\w*$/, "must be a Python identifier"),
  canonical_solution: z.string(),
  test: z.string().min(1),
});

const SUITE_WORDS: Record<string, SuiteName> = {
  humaneval: "humaneval",
  "humaneval+": "humaneval+",
  humanevalplus: "humaneval+",
};

export interface LoadSuiteOptions extends LocateOptions {
  /** The suite to load when `dataset` does not name one. */
  suite: SuiteName;
  /** `--dataset`: the word humaneval or humaneval+, or the path of a .jsonl / .jsonl.gz file. */
  dataset?: string;
  /** Correct the known dataset mistakes (tasks/dataset-errata.ts); default true. `koderz audit --no-errata` reads a file as published. */
  errata?: boolean;
}

/**
 * Loads every problem of a suite, in file order. Where the file comes from: `dataset` when given
 * (a path never falls back to another file), else KODERZ_DATA_DIR, the user cache, a download.
 */
export async function loadSuite(options: LoadSuiteOptions): Promise<Task[]> {
  const { suite, file } = await resolveDataset(options);
  return loadSuiteFile(file, suite, { errata: options.errata });
}

/** Which suite and file a `--dataset` value means; a path's suite is guessed from its name. */
export async function resolveDataset(options: LoadSuiteOptions): Promise<{ suite: SuiteName; file: string }> {
  const given = options.dataset?.trim();
  const word = given ? SUITE_WORDS[given.toLowerCase()] : undefined;
  if (given && !word) return { suite: suiteOfFileName(given) ?? options.suite, file: await requireDatasetFile(given) };
  const suite = word ?? options.suite;
  return { suite, file: await locateSuiteFile(suite, options) };
}

/** Reads one dataset file as the tasks of `suite`, its known mistakes corrected unless `errata` is false. */
export async function loadSuiteFile(file: string, suite: SuiteName, options: { errata?: boolean } = {}): Promise<Task[]> {
  const errata = options.errata ?? true;
  const records = await readJsonlFile(file, DatasetLine, "a problem object with task_id, prompt, entry_point, canonical_solution and test");
  if (records.length === 0) throw new KoderzError("bad_input", `${file}: the dataset holds no problems`);
  const seen = new Map<string, number>();
  return records.map(({ line, value }, index) => {
    if ("plus_input" in value) {
      throw new KoderzError(
        "bad_input",
        `${file}:${line}: this is EvalPlus's native format (base_input/plus_input), not check() tests`,
        "use HumanEvalPlus-OriginFmt.jsonl.gz, whose test field is a check(candidate) function",
      );
    }
    const earlier = seen.get(value.task_id);
    if (earlier !== undefined) throw new KoderzError("bad_input", `${file}:${line}: task_id ${value.task_id} already appeared on line ${earlier}`);
    seen.set(value.task_id, line);
    return {
      id: value.task_id,
      index,
      suite,
      prompt: value.prompt,
      entryPoint: value.entry_point,
      canonicalSolution: value.canonical_solution,
      visibleExamples: extractVisibleExamples(value.prompt, value.entry_point),
      hiddenTest: errata ? correctedTest(value.task_id, value.test) : value.test,
    };
  });
}

/**
 * The problems [start, end) by index, as in `koderz benchmark 0 164`. Out-of-range bounds are a
 * usage error rather than a silent clamp, so a typo cannot quietly shrink a benchmark.
 */
export function selectRange<T extends { index: number }>(tasks: readonly T[], start: number, end: number): T[] {
  const count = tasks.length;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > count || start >= end) {
    throw new KoderzError(
      "usage",
      `problem range ${start} ${end} is not valid: this suite has ${count} problems, so it needs 0 <= START < END <= ${count}`,
      `e.g. 0 ${count} for all of them, or 0 10 for the first ten`,
    );
  }
  return tasks.slice(start, end);
}

function suiteOfFileName(file: string): SuiteName | undefined {
  const name = path.basename(file).toLowerCase();
  if (name.includes("plus")) return "humaneval+";
  if (name.includes("humaneval")) return "humaneval";
  return undefined;
}
