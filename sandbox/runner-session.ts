import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { KoderzError } from "../src/errors.js";
import { encodeProgram, parseRunnerLine, STOP_LINE, type RunnerReady } from "./runner-protocol.js";
import type { Program, RunOptions, Verdict } from "./sandbox.js";

/** A started runner, wherever it lives (a container, a local process). */
export interface RunnerChannel {
  stdin: Writable;
  stdout: Readable;
  /** The tail of what the runner wrote on stderr, to explain a failure. */
  diagnostics(): string;
  /** Ends the runner at once; used when it stalls. */
  kill(): void;
}

/** Seconds of silence, beyond the longest program timeout, after which the runner is taken as stalled. */
const STALL_GRACE_SECONDS = 30;

/**
 * Feeds a batch to a runner and collects its verdicts, returned in program order. On abort the
 * runner is told to start nothing more, and only the verdicts reached are returned. If the
 * runner dies mid-batch, every program still without a verdict is failed (never passed).
 */
export async function runBatch(
  channel: RunnerChannel,
  programs: Program[],
  options: RunOptions,
  onReady?: (ready: RunnerReady) => void,
): Promise<Verdict[]> {
  assertUniqueIds(programs);
  if (programs.length === 0) return [];
  const verdicts = new Map<string, Verdict>();
  const wanted = new Set(programs.map((program) => program.id));
  let ready = false;
  let stalled = false;

  const stallMs = (Math.max(...programs.map((program) => program.timeoutSeconds)) + STALL_GRACE_SECONDS) * 1000;
  let stallTimer = setTimeout(onStall, stallMs);
  function onStall(): void {
    stalled = true;
    channel.kill();
  }

  const stop = (): void => {
    if (!channel.stdin.writableEnded) channel.stdin.end(STOP_LINE);
  };
  options.signal?.addEventListener("abort", stop, { once: true });
  // A runner that died leaves a broken pipe; its verdicts (or their absence) tell the story.
  channel.stdin.on("error", () => undefined);
  for (const program of programs) channel.stdin.write(encodeProgram(program));

  let callbackError: unknown;
  const deliver = (verdict: Verdict): void => {
    try {
      options.onVerdict?.(verdict);
    } catch (error) {
      callbackError ??= error;
    }
  };

  try {
    for await (const line of createInterface({ input: channel.stdout, crlfDelay: Infinity })) {
      const message = parseRunnerLine(line);
      if (!message) continue;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(onStall, stallMs);
      if (message.kind === "ready") {
        ready = true;
        onReady?.(message.ready);
        continue;
      }
      const verdict: Verdict = { ...message.verdict, passed: message.verdict.status === "passed" };
      // Only the runner writes this channel, and no program can reach it; a line for an id not
      // asked for, or a second one for the same id, is still never allowed to stop the batch
      // or to change a verdict already given: the first verdict for each program stands.
      if (!wanted.has(verdict.id) || verdicts.has(verdict.id)) {
        continue;
      }
      verdicts.set(verdict.id, verdict);
      deliver(verdict);
      if (verdicts.size === programs.length && !channel.stdin.writableEnded) channel.stdin.end();
    }
  } catch (error) {
    if (error instanceof KoderzError) throw error;
    throw new KoderzError("sandbox_unavailable", `lost the connection to the sandbox runner: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(stallTimer);
    options.signal?.removeEventListener("abort", stop);
  }

  if (!ready) {
    throw new KoderzError(
      "sandbox_unavailable",
      `the sandbox runner did not start${describe(channel.diagnostics())}`,
      "run `koderz sandbox status` to check the sandbox, or `koderz sandbox build --force` to rebuild its image",
    );
  }
  if (verdicts.size < programs.length && !options.signal?.aborted) {
    const why = stalled ? "stalled and was stopped" : "stopped before this program finished";
    for (const program of programs) {
      if (verdicts.has(program.id)) continue;
      const lost: Verdict = {
        id: program.id,
        status: "failed",
        result: `failed: the sandbox runner ${why}`,
        passed: false,
        durationMs: 0,
        output: channel.diagnostics(),
      };
      verdicts.set(program.id, lost);
      deliver(lost);
    }
  }
  // The caller's own callback failed: theirs to see, once the runner is done with.
  if (callbackError !== undefined) throw callbackError;
  return programs.flatMap((program) => verdicts.get(program.id) ?? []);
}

function assertUniqueIds(programs: Program[]): void {
  const seen = new Set<string>();
  for (const program of programs) {
    if (seen.has(program.id)) {
      throw new KoderzError("bad_input", `two programs in one sandbox batch share the id ${JSON.stringify(program.id)}`);
    }
    seen.add(program.id);
  }
}

function describe(diagnostics: string): string {
  const text = diagnostics.trim();
  return text ? `:\n${text}` : "";
}

/** Keeps the last `limit` characters of a stream, for error messages. */
export function keepTail(stream: Readable, limit = 4000): () => string {
  let tail = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-limit);
  });
  return () => tail;
}
