import type { Program, RunOptions, Sandbox, Verdict } from "../../../sandbox/sandbox.js";

interface Waiting {
  programs: Program[];
  resolve: (verdicts: Verdict[]) => void;
  reject: (error: unknown) => void;
  onVerdict?: (verdict: Verdict) => void;
}

/**
 * A sandbox that gathers the programs of many callers into one batch of the sandbox it wraps. The
 * audit scores thousands of cheats through the scorers themselves (so each is judged exactly as
 * `koderz evaluate` and a benchmark judge it); each scorer asks for a batch of one or a few
 * programs, and a runner per batch would cost a container start each. Calls made in the same turn
 * of the event loop share a batch; batches run one after another, on one warm runner.
 */
export class BatchingSandbox implements Sandbox {
  readonly name: Sandbox["name"];
  private waiting: Waiting[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Sandbox,
    private readonly options: Pick<RunOptions, "workers" | "signal"> = {},
  ) {
    this.name = inner.name;
  }

  run(programs: Program[], options: RunOptions = {}): Promise<Verdict[]> {
    if (programs.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ programs, resolve, reject, onVerdict: options.onVerdict });
      this.schedule();
    });
  }

  /** The wrapped sandbox belongs to the caller, who closes it. */
  async close(): Promise<void> {
    await this.chain;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.scheduled = false;
        const batch = this.waiting;
        this.waiting = [];
        return this.runBatch(batch);
      });
  }

  private async runBatch(batch: readonly Waiting[]): Promise<void> {
    // Ids of their own: two callers may both name a program "HumanEval/2".
    const owner = new Map<string, { waiting: Waiting; index: number }>();
    const programs: Program[] = [];
    batch.forEach((waiting, w) =>
      waiting.programs.forEach((program, index) => {
        const id = `${w}/${index}`;
        owner.set(id, { waiting, index });
        programs.push({ ...program, id });
      }),
    );
    const back = (verdict: Verdict): Verdict => {
      const { waiting, index } = owner.get(verdict.id)!;
      return { ...verdict, id: waiting.programs[index]!.id };
    };
    let verdicts: Verdict[];
    try {
      verdicts = await this.inner.run(programs, {
        workers: this.options.workers,
        signal: this.options.signal,
        onVerdict: (verdict) => {
          const mine = owner.get(verdict.id);
          mine?.waiting.onVerdict?.(back(verdict));
        },
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    const byId = new Map(verdicts.map((verdict) => [verdict.id, verdict]));
    batch.forEach((waiting, w) =>
      waiting.resolve(
        // A program an interrupted batch never ran is failed, never passed.
        waiting.programs.map((program, index) => {
          const verdict = byId.get(`${w}/${index}`);
          return verdict ? back(verdict) : { id: program.id, status: "failed", result: "failed: not run (interrupted)", passed: false, durationMs: 0, output: "" };
        }),
      ),
    );
  }
}
