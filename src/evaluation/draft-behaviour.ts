import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Sandbox } from "../../sandbox/sandbox.js";
import type { Task } from "../../tasks/task.js";
import { readPackageFile } from "../package-file.js";
import type { DraftBehaviour } from "../store/index.js";
import { pythonString } from "./scorers/python-literal.js";

/** Seconds one draft gets for all its inputs: each call is cut at one second by the probe itself. */
const PROBE_SECONDS = 30;

const Hashes = z.array(z.string());

/**
 * Runs each of deep mode's drafts in the sandbox on the same inputs, generated from the task's
 * docstring examples by draft-behaviour.py (beside this file), and returns what each returned as
 * short hashes; undefined when no input could be generated. A draft that stops before printing
 * (a timeout, a crash at import) gets "!" and the reason for every input, so it agrees with none.
 * The draft runs in the same process as the probe and could print a forged line: the line is
 * found by a random marker, and the figure is an analysis, never a verdict.
 */
export async function draftBehaviour(
  sandbox: Sandbox,
  task: Pick<Task, "prompt" | "entryPoint" | "visibleExamples">,
  completions: readonly string[],
  signal?: AbortSignal,
): Promise<DraftBehaviour | undefined> {
  const probe = readPackageFile(import.meta.url, "./draft-behaviour.py");
  const marker = `KODERZ-BEHAVIOUR-${randomBytes(6).toString("hex")}:`;
  const calls = JSON.stringify(task.visibleExamples.map((example) => example.call));
  const verdicts = await sandbox.run(
    completions.map((completion, i) => ({
      id: `draft#${i}`,
      source: `${task.prompt}${completion}\n\n${probe}\n__koderz_probe(${pythonString(task.entryPoint)}, ${calls}, ${pythonString(marker)})\n`,
      timeoutSeconds: PROBE_SECONDS,
    })),
    { signal },
  );
  const read = verdicts.map((verdict) => {
    const line = verdict.output.split("\n").find((text) => text.startsWith(marker));
    const parsed = line === undefined ? undefined : Hashes.safeParse(safeJson(line.slice(marker.length)));
    return parsed?.success ? parsed.data : `!${verdict.status === "timed out" ? "Timeout" : "NoOutput"}`;
  });
  const inputs = Math.max(0, ...read.map((hashes) => (Array.isArray(hashes) ? hashes.length : 0)));
  if (inputs === 0) return undefined;
  return { inputs, outputs: read.map((hashes) => (Array.isArray(hashes) ? hashes : Array<string>(inputs).fill(hashes))) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
