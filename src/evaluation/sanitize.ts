import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { packageFilePath } from "../package-file.js";

/**
 * Turns a chat model's answer into a completion that fits `prompt + completion`:
 *  - code is taken from its ```python fences (several blocks are joined, in order), or, without
 *    fences, from the text itself, or from the longest run of lines that is Python among prose;
 *  - a whole function that repeats the prompt is kept whole after the prompt (Python's later
 *    definition wins, so no line is re-indented), with the helpers and imports the model added;
 *  - a body-only answer stays the body (a first line that lost its indentation, or a body written
 *    at column 0, is re-indented);
 *  - module-level scaffolding is dropped: `if __name__ == "__main__":` blocks, asserts, prints,
 *    example calls of the entry point, calls of the answer's own test/demo functions, pytest.
 * Like EvalPlus's sanitizer (extract the longest syntactically valid code, keep imports and
 * definitions) but without its reachability pruning: an unused helper costs nothing, while
 * pruning can drop code a solution needs (initialisers, tables filled at import time).
 * It never makes things worse: when nothing fits, the answer is returned unchanged.
 *
 * Why Python: deciding what is code needs Python's own parser (indentation, strings, the exact
 * grammar of the interpreter that will run it). python3 is already a prerequisite, and compile()
 * checks syntax without running anything; a parser written in TypeScript would drift from it.
 * The Python half is sanitize.py beside this file.
 */
export interface SanitizeRequest {
  /** The prompt the completion will be appended to (use "" for a self-contained solution). */
  prompt: string;
  entryPoint: string;
  /** The model's raw answer. */
  output: string;
}

export interface SanitizeResult {
  completion: string;
  /** How the code was found, for logs and tests, e.g. "fenced, whole function". */
  how: string;
}

const ScriptOutput = z.array(z.object({ completion: z.string(), how: z.string() }));

/** Sanitizes many answers in the warm python3 sanitizer (a few ms each). */
export async function sanitizeCompletions(requests: readonly SanitizeRequest[]): Promise<SanitizeResult[]> {
  if (requests.length === 0) return [];
  // Outside the try: a missing sanitize.py is a broken install, not an answer to keep unchanged.
  const script = packageFilePath(import.meta.url, "./sanitize.py");
  try {
    return await runScript(script, requests);
  } catch (error) {
    if (error instanceof KoderzError && error.code === "not_found") throw error;
    // One pathological answer (say, nesting that overflows the parser) must not sink the batch:
    // retry one by one and keep such an answer as it was.
    const results: SanitizeResult[] = [];
    for (const request of requests) {
      try {
        results.push(...(await runScript(script, [request])));
      } catch {
        results.push({ completion: request.output, how: "sanitizer failed: kept the answer unchanged" });
      }
    }
    return results;
  }
}

/** Sanitizes one answer for a task; returns the completion to append to the task's prompt. */
export async function sanitizeCompletion(output: string, task: Pick<Task, "prompt" | "entryPoint">): Promise<string> {
  const [result] = await sanitizeCompletions([{ prompt: task.prompt, entryPoint: task.entryPoint, output }]);
  return result!.completion;
}

async function runScript(script: string, requests: readonly SanitizeRequest[]): Promise<SanitizeResult[]> {
  const answer = safeJson(await sanitizerProcess(script).ask(JSON.stringify(requests)));
  const parsed = ScriptOutput.safeParse(answer);
  if (!parsed.success || parsed.data.length !== requests.length) {
    const said = typeof answer === "object" && answer !== null && "error" in answer ? `: ${String(answer.error)}` : "";
    throw new KoderzError("internal", `the sanitizer returned an unexpected answer${said}`);
  }
  return parsed.data;
}

let shared: SanitizerProcess | undefined;

/** The one sanitizer of this process, started on first use and again after it died. */
function sanitizerProcess(script: string): SanitizerProcess {
  if (!shared || shared.gone) shared = new SanitizerProcess(script);
  return shared;
}

/**
 * python3 running sanitize.py --serve, kept for the life of this process: starting Python costs
 * a third of a second on a small virtual machine, and a run sanitizes every Coder answer. Lines
 * in, lines out, answered in order. It only holds the process open while an answer is awaited.
 */
class SanitizerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  private stderr = "";
  gone = false;

  constructor(script: string) {
    // -I: ignore PYTHON* variables and the user's site-packages; the script needs only the stdlib.
    this.child = spawn("python3", ["-I", script, "--serve"], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.waiting.shift()?.resolve(line);
      this.holdOpen();
    });
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-500)));
    this.child.stdin.on("error", () => undefined); // the exit handler reports it
    this.child.on("error", (error: NodeJS.ErrnoException) =>
      this.fail(
        error.code === "ENOENT"
          ? new KoderzError("not_found", "python3 is needed to sanitize completions and was not found", "install Python 3 and make sure python3 is on PATH")
          : error,
      ),
    );
    this.child.on("exit", (code, signal) => this.fail(new KoderzError("internal", `the sanitizer exited with ${signal ?? code}: ${this.stderr}`)));
    this.holdOpen();
  }

  ask(line: string): Promise<string> {
    if (this.gone) return Promise.reject(new KoderzError("internal", "the sanitizer is gone"));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.holdOpen();
      this.child.stdin.write(`${line}\n`);
    });
  }

  private fail(error: Error): void {
    this.gone = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    this.holdOpen();
  }

  /** Referenced only while an answer is awaited, so an idle sanitizer never keeps Node running. */
  private holdOpen(): void {
    const busy = this.waiting.length > 0;
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Array<{ ref?(): void; unref?(): void }>) {
      if (busy) handle.ref?.();
      else handle.unref?.();
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
