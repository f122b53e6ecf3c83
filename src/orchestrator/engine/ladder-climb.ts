import type { Agent } from "../../../agents/agent.js";
import { MODES, type Mode } from "../../../policy/actions.js";
import { MODE_SPECS, type Product } from "../../../policy/mode-spec.js";
import type { LadderTrajectory } from "../../../training/ladder-state.js";
import type { ModelBackend } from "../../llm/types.js";
import { describeRung, rungCount, startModes, startRung, type Ladder } from "../ladder.js";
import type { StepDraft } from "../trajectory.js";
import type { TeamEpisode, TeamWork } from "./team-episode.js";

/**
 * THE ladder climb, for both products (`solve --mode auto --ladder`, and any function task played
 * rung by rung): the rungs of a ladder (ladder.ts), cheapest first, on one episode's work. Each rung
 * plays its mode's script; when it ends with its checks failing (or no change at all) and a rung is
 * left, the next rung takes over the same work: the change so far stays, and the next Coder is
 * shown it with its check report. Whether to climb is the policy's decision (`decide`, with --mode
 * auto: asked in the state training builds from the same steps, training/ladder-state.ts); without
 * one, a rung whose checks pass ends the climb, so the dearer rungs are paid for only where the
 * cheap one failed (the FrugalGPT cascade).
 *
 * The benchmark's live episodes climb one decision at a time instead (the policy may Escalate after
 * any step, episode-runner.ts), through the same TeamEpisode.escalate.
 */
export interface LadderPlan {
  ladder: Ladder;
  /** The mode the policy chose: a ladder of modes starts on its rung; a ladder of models keeps it. */
  startMode: Mode;
  /** The backend (logged with the run) for a model a rung names. */
  backend(model: string): ModelBackend;
  log(message: string): void;
  /** At the end of each rung but the last: climb or not. Unset: climb while the checks fail or nothing changed. */
  decide?(end: RungEnd): "Stop" | "Escalate";
}

/** Where a rung (not the last) ended: what the policy sees before deciding whether to climb. */
export interface RungEnd {
  mode: Mode;
  /** 0 is the cheapest rung. */
  rung: number;
  rungs: number;
  testsPassed: boolean;
  /** The agents that ran so far, on every rung. */
  agents: readonly Agent[];
  /** Spent so far, on every rung, and this rung's tokens. */
  costUsd: number;
  tokens: number;
  rungTokens: number;
  /** The rungs climbed so far with their recorded steps: the policy's state is built from it as training builds its states (training/ladder-state.ts). */
  trajectory: LadderTrajectory;
}

/** What one rung did: its mode (and, on a ladder of models, its agent's model), its checks and its spend. */
export interface RungReport {
  /** 1 is the cheapest rung. */
  rung: number;
  mode: Mode;
  agent?: Agent;
  model?: string;
  /** The orchestrator's check of the rung's change; unset on the last rung, which the grade judges. */
  tests?: "passed" | "failed";
  costUsd: number;
  tokens: number;
}

export interface Climb {
  escalations: number;
  rungs: RungReport[];
}

/** How a rung's change stands at its end, by the product's checks. */
export interface RungCheck {
  passed: boolean;
  /** Whether the team changed anything at all. */
  changed: boolean;
  /** Why the rung failed, as a log line says it ("the tests failing (exit 1)"). */
  failure: string;
}

/** The product's part of a climb: the check that ends a rung, and what the next rung is handed. */
export interface ClimbPlug<W extends TeamWork> {
  /** Checks the change at a rung's end (recording the check as a step). */
  rungCheck(work: W): Promise<RungCheck>;
  /** The work as the next rung receives it, after that check. */
  handOn(work: W): void;
}

export async function climbLadder<W extends TeamWork, S>(episode: TeamEpisode<W, S>, climb: ClimbPlug<W>, plan: LadderPlan): Promise<Climb> {
  const { ladder, startMode } = plan;
  const { work } = episode;
  const { trajectory } = episode.plug;
  const last = rungCount(ladder) - 1;
  const first = startRung(ladder, startMode);
  const allRan: Agent[] = [];
  const rungs: RungReport[] = [];
  const climbed: { mode: Mode; steps: StepDraft[] }[] = [];
  episode.enterRung(ladder, first, plan.backend);
  for (let rung = first; ; rung += 1) {
    const { mode } = work;
    const resumed = work.ran.length;
    const before = trajectory.spend();
    const firstStep = trajectory.steps.length;
    await episode.playScript();
    allRan.push(...work.ran.slice(resumed));
    // The last rung's change is graded next; any other is checked now.
    const check = rung < last && !work.stoppedBy ? await climb.rungCheck(work) : undefined;
    const after = trajectory.spend();
    climbed.push({ mode, steps: trajectory.steps.slice(firstStep) });
    rungs.push({
      rung: rung + 1,
      mode,
      ...(ladder.kind === "models" ? { agent: ladder.agent, model: ladder.models[rung] } : {}),
      ...(check ? { tests: check.passed ? "passed" : "failed" } : {}),
      costUsd: after.usd - before.usd,
      tokens: after.tokens - before.tokens,
    });
    if (!check) break;
    const cascade = check.passed && check.changed ? "Stop" : "Escalate";
    const choice = plan.decide
      ? plan.decide({
          mode,
          rung,
          rungs: last + 1,
          testsPassed: check.passed,
          agents: allRan,
          costUsd: after.usd,
          tokens: after.tokens,
          rungTokens: after.tokens - before.tokens,
          trajectory: { rungs: [...climbed], startRung: first, rungCount: last + 1 },
        })
      : cascade;
    if (choice === "Stop") {
      if (cascade === "Escalate") plan.log(`ladder: the policy stops on rung ${rung + 1} (${describeRung(ladder, rung)}) with ${check.changed ? "the tests failing" : "no change made"}`);
      break;
    }

    const reason = !check.changed ? "no change made" : check.passed ? "the tests passing, and the policy climbing all the same" : check.failure;
    const spent = `$${(after.usd - before.usd).toFixed(4)}, ${after.tokens - before.tokens} tokens`;
    trajectory.addEscalation(`rung ${rung + 2} of ${last + 1}: ${describeRung(ladder, rung + 1)}`, `rung ${rung + 1} (${describeRung(ladder, rung)}, ${spent}) ended with ${reason}`);
    plan.log(`ladder: rung ${rung + 1} (${describeRung(ladder, rung)}) ended with ${reason}; escalating to ${describeRung(ladder, rung + 1)}`);
    // The next rung inherits the work, and is told how the change fares.
    climb.handOn(work);
    episode.escalate(ladder, rung + 1, plan.backend);
  }
  return { escalations: rungs.length - 1, rungs };
}

/** The modes a policy may start a climb in: a ladder of modes' rungs, or (a ladder of models) the modes whose script calls its agent. */
export function climbStartModes(product: Product, ladder: Ladder): readonly Mode[] {
  if (ladder.kind === "modes") return startModes(ladder);
  return MODES.filter((mode) => MODE_SPECS[product][mode].script.some((step) => step.agent === ladder.agent));
}

/** The modes a ladder may run from its start: each one's models must answer before the run starts. */
export function rungModes(ladder: Ladder, startMode: Mode): Mode[] {
  return ladder.kind === "modes" ? ladder.modes.slice(startRung(ladder, startMode)) : [startMode];
}
