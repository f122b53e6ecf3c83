import { z } from "zod";
import { readJsonlFile } from "../../tasks/jsonl.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";

/**
 * One line of a samples file in the reference format, {task_id, completion} (the completion is
 * appended to the prompt), or EvalPlus's {task_id, solution} (a self-contained program).
 * Other fields are kept and written back to the results file untouched.
 */
const SampleLine = z
  .looseObject({
    task_id: z.string().min(1),
    completion: z.string().optional(),
    solution: z.string().optional(),
  })
  .refine((sample) => sample.completion !== undefined || sample.solution !== undefined, {
    message: 'needs a "completion" (or "solution") string',
  });

export interface Sample {
  /** 1-based line in the samples file. */
  line: number;
  task: Task;
  /** The code to judge: a completion of the prompt, or a whole solution. */
  code: string;
  kind: "completion" | "solution";
  /** The line's JSON object as read, keys in order, for the results file. */
  fields: Record<string, unknown>;
}

/** Reads and checks a samples file against the dataset; an unknown task id names its line. */
export async function readSamples(file: string, tasks: readonly Task[], datasetLabel: string): Promise<Sample[]> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const records = await readJsonlFile(file, SampleLine, 'an object like {"task_id": "HumanEval/0", "completion": "..."}');
  if (records.length === 0) throw new KoderzError("bad_input", `${file} holds no samples`);
  return records.map(({ line, value, raw }) => {
    const task = byId.get(value.task_id);
    if (!task) {
      throw new KoderzError(
        "bad_input",
        `${file}:${line}: unknown task_id "${value.task_id}" (not a problem of ${datasetLabel})`,
        "check the task_id, or pick the dataset the samples were made for with --dataset humaneval|humaneval+|PATH",
      );
    }
    const kind = value.completion !== undefined ? "completion" : "solution";
    return { line, task, code: (value.completion ?? value.solution)!, kind, fields: raw as Record<string, unknown> };
  });
}

/**
 * The reference harness refuses to score a file that leaves problems out (pass@k would silently
 * be over fewer problems); so does koderz, unless the caller allows a partial evaluation.
 */
export function requireEveryTask(samples: readonly Sample[], tasks: readonly Task[], file: string): void {
  const attempted = new Set(samples.map((sample) => sample.task.id));
  const missing = tasks.filter((task) => !attempted.has(task.id));
  if (missing.length === 0) return;
  const shown = missing.slice(0, 5).map((task) => task.id).join(", ");
  throw new KoderzError(
    "bad_input",
    `${missing.length} of ${tasks.length} problems have no sample in ${file} (${shown}${missing.length > 5 ? ", ..." : ""})`,
    "add samples for them, or pass --allow-partial to score only the problems the file covers",
  );
}
