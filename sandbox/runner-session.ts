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
 * A started runner, fed batch after batch: a warm runner pays its start once. Verdicts come
 * back in program order. On abort the runner is told to start nothing more, and only the
 * verdicts reached are returned. If the runner dies mid-batch, every program still without a
 * verdict is failed (never passed). After an abort, a stall or a death the session is spent.
 */
export class RunnerSession {
  private readonly lines: LineReader;
  private readyMessage: RunnerReady | undefined;
  private spent = false;

  constructor(private readonly channel: RunnerChannel) {
    this.lines = new LineReader(channel.stdout);
    // A runner that died leaves a broken pipe; its verdicts (or their absence) tell the story.
    channel.stdin.on("error", () => undefined);
  }

  /** Whether another batch may run here: the last one ended cleanly and the runner still reads. */
  get reusable(): boolean {
    return !this.spent && !this.lines.ended && !this.channel.stdin.writableEnded;
  }

  /** Tells the runner that no more programs come: it finishes what runs, then exits. */
  end(): void {
    this.spent = true;
    if (!this.channel.stdin.writableEnded) this.channel.stdin.end();
  }

  async run(programs: Program[], options: RunOptions, onReady?: (ready: RunnerReady) => void): Promise<Verdict[]> {
    assertUniqueIds(programs);
    if (programs.length === 0) return [];
    const { channel } = this;
    const verdicts = new Map<string, Verdict>();
    const wanted = new Set(programs.map((program) => program.id));
    let stalled = false;

    const stallMs = (Math.max(...programs.map((program) => program.timeoutSeconds)) + STALL_GRACE_SECONDS) * 1000;
    let stallTimer = setTimeout(onStall, stallMs);
    function onStall(): void {
      stalled = true;
      channel.kill();
    }

    const stop = (): void => {
      this.spent = true;
      if (!channel.stdin.writableEnded) channel.stdin.end(STOP_LINE);
    };
    options.signal?.addEventListener("abort", stop, { once: true });
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
      // After an abort, read on to the runner's end: what it still finishes is returned too.
      while (verdicts.size < programs.length || this.spent) {
        const line = await this.lines.next();
        if (line === undefined) break;
        const message = parseRunnerLine(line);
        if (!message) continue;
        clearTimeout(stallTimer);
        stallTimer = setTimeout(onStall, stallMs);
        if (message.kind === "ready") {
          this.readyMessage = message.ready;
          onReady?.(message.ready);
          continue;
        }
        const verdict: Verdict = { ...message.verdict, passed: message.verdict.status === "passed" };
        // Only the runner writes this channel, and no program can reach it; a line for an id not
        // asked for, or a second one for the same id, is still never allowed to stop the batch
        // or to change a verdict already given: the first verdict for each program stands.
        if (!wanted.has(verdict.id) || verdicts.has(verdict.id)) continue;
        verdicts.set(verdict.id, verdict);
        deliver(verdict);
      }
    } catch (error) {
      this.spent = true;
      if (error instanceof KoderzError) throw error;
      throw new KoderzError("sandbox_unavailable", `lost the connection to the sandbox runner: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(stallTimer);
      options.signal?.removeEventListener("abort", stop);
    }

    if (!this.readyMessage) {
      this.spent = true;
      throw new KoderzError(
        "sandbox_unavailable",
        `the sandbox runner did not start${describe(channel.diagnostics())}`,
        "run `koderz sandbox status` to check the sandbox, or `koderz sandbox build --force` to rebuild its image",
      );
    }
    if (verdicts.size < programs.length && !options.signal?.aborted) {
      this.spent = true;
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
}

/** One batch on a runner started for it alone: the runner is told to end once it is done. */
export async function runBatch(
  channel: RunnerChannel,
  programs: Program[],
  options: RunOptions,
  onReady?: (ready: RunnerReady) => void,
): Promise<Verdict[]> {
  const session = new RunnerSession(channel);
  try {
    return await session.run(programs, options, onReady);
  } finally {
    session.end();
  }
}

/** The lines a stream gives, one at a time, across batches; undefined at its end. */
class LineReader {
  private readonly buffered: string[] = [];
  private waiting: { resolve: (line: string | undefined) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  ended = false;

  constructor(stream: Readable) {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on("line", (line) => {
      if (this.waiting) this.settle((waiting) => waiting.resolve(line));
      else this.buffered.push(line);
    });
    lines.on("close", () => {
      this.ended = true;
      this.settle((waiting) => waiting.resolve(undefined));
    });
    stream.on("error", (error: Error) => {
      this.failure = error;
      this.ended = true;
      this.settle((waiting) => waiting.reject(error));
    });
  }

  next(): Promise<string | undefined> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift());
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private settle(action: (waiting: { resolve: (line: string | undefined) => void; reject: (error: Error) => void }) => void): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) action(waiting);
  }
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
