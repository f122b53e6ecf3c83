import { RunnerSession, type RunnerChannel } from "./runner-session.js";
import type { Program, RunOptions, Verdict } from "./sandbox.js";

/** A runner a sandbox started (a container, a local process), ready for batches. */
export interface StartedRunner {
  channel: RunnerChannel;
  /** Whether the runner keeps this process alive: not while it waits idle in the pool. */
  hold(held: boolean): void;
  /** Ends the runner and removes what it used; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface PoolLimits {
  /** Idle runners kept for the next batches (0: a runner per batch, as without a pool). */
  maxIdle: number;
  /** An idle runner older than this is stopped. */
  idleMs: number;
}

/**
 * Default pool: two idle runners, kept 30 s. Overridden by KODERZ_SANDBOX_POOL=N (0 turns the
 * pool off) and KODERZ_SANDBOX_IDLE_SECONDS.
 */
export function defaultPoolLimits(env: NodeJS.ProcessEnv = process.env): PoolLimits {
  const count = (value: string | undefined, fallback: number): number => {
    const parsed = Number(value);
    return value !== undefined && value !== "" && Number.isInteger(parsed) && parsed >= 0 ? parsed : fallback;
  };
  return { maxIdle: count(env.KODERZ_SANDBOX_POOL, 2), idleMs: count(env.KODERZ_SANDBOX_IDLE_SECONDS, 30) * 1000 };
}

interface Warm {
  runner: StartedRunner;
  session: RunnerSession;
  workers: number;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Runners kept warm across batches within one process, so that the small batches agents make
 * (a visible-example check, a Tester run) pay no container start. A runner serves one batch at
 * a time; between programs it has already killed everything of the program's slot and removed
 * its files (sandbox/runner.py), so a batch sees nothing of an earlier one. A runner is reused
 * only after a batch that ended cleanly (not aborted, stalled or lost) and while it still reads.
 * Idle runners do not keep the process alive; when it exits, even by SIGKILL, their stdin
 * closes and they end (a container also carries owner labels, for the next start to reap).
 */
export class RunnerPool {
  private readonly idle: Warm[] = [];
  private readonly busy = new Set<Warm>();

  constructor(
    private readonly start: (workers: number) => Promise<StartedRunner>,
    private readonly limits: PoolLimits = defaultPoolLimits(),
  ) {}

  async run(workers: number, programs: Program[], options: RunOptions): Promise<Verdict[]> {
    const warm = this.take(workers) ?? (await this.fresh(workers));
    warm.runner.hold(true);
    this.busy.add(warm);
    try {
      return await warm.session.run(programs, options);
    } finally {
      this.busy.delete(warm);
      await this.giveBack(warm);
    }
  }

  /** Stops every runner, idle or busy (a busy batch then ends with its runner lost). */
  async close(): Promise<void> {
    const all = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    await Promise.all(all.map((warm) => this.stop(warm)));
  }

  private async fresh(workers: number): Promise<Warm> {
    const runner = await this.start(workers);
    return { runner, workers, session: new RunnerSession(runner.channel) };
  }

  private take(workers: number): Warm | undefined {
    const index = this.idle.findIndex((warm) => warm.workers === workers && warm.session.reusable);
    if (index < 0) return undefined;
    const [warm] = this.idle.splice(index, 1);
    clearTimeout(warm!.idleTimer);
    return warm;
  }

  private async giveBack(warm: Warm): Promise<void> {
    if (!warm.session.reusable || this.limits.maxIdle === 0) return this.stop(warm);
    warm.runner.hold(false);
    warm.idleTimer = setTimeout(() => {
      const index = this.idle.indexOf(warm);
      if (index < 0) return;
      this.idle.splice(index, 1);
      void this.stop(warm);
    }, this.limits.idleMs);
    warm.idleTimer.unref();
    this.idle.push(warm);
    // Over the cap: the runner idle longest goes.
    while (this.idle.length > this.limits.maxIdle) await this.stop(this.idle.shift()!);
  }

  private async stop(warm: Warm): Promise<void> {
    clearTimeout(warm.idleTimer);
    // Held again while it ends: an idle runner alone would let the process exit before it is gone.
    warm.runner.hold(true);
    warm.session.end();
    await warm.runner.stop().catch(() => undefined);
  }
}
