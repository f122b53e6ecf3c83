import type { Agent } from "../../../agents/agent.js";
import { clip } from "../../../agents/tools/index.js";
import { MODES } from "../../../policy/actions.js";
import { MODE_SPECS, type ScriptSettings, type ScriptStep } from "../../../policy/mode-spec.js";
import type { ModelBackend } from "../../llm/types.js";
import { describeRung, modelsOnRung, modeOnRung, rungCount, startModes, startRung, type Ladder } from "../ladder.js";
import { newSolveWork, recordedCheck, runSolveScript, solveOutcome, testReport } from "./pipelines.js";
import type { SolveContext, SolveMode, SolveOutcome } from "./solve-pipeline.js";
import type { LadderTrajectory } from "../../../training/ladder-state.js";
import type { StepDraft } from "../trajectory.js";

/**
 * `koderz solve --mode auto --ladder ...`: the rungs of the benchmark's ladder (ladder.ts),
 * cheapest first, played on one repository workspace. Each rung runs its mode's script; when it
 * ends with the repository's tests failing (or no change at all) and a rung is left, the next
 * rung takes over the same workspace: the change so far stays in place, and the next Coder is
 * shown it with its test report, as the benchmark's escalated Coder is shown the best candidate.
 * Whether to climb is the policy's decision (`decide`, with --mode auto: it sees the tests, the
 * rung and the spend); without one, a rung whose tests pass ends the climb, so the dearer rungs
 * are paid for only where the cheap one failed (the FrugalGPT cascade).
 */
export interface LadderPlan {
  ladder: Ladder;
  /** The mode the policy chose: a ladder of modes starts on its rung; a ladder of models keeps it. */
  startMode: SolveMode;
  /** The backend (logged with the run) for a model a rung names. */
  backend(model: string): ModelBackend;
  log(message: string): void;
  /** At the end of each rung but the last: climb or not. Unset: climb while the tests fail or nothing changed. */
  decide?(end: RungEnd): "Stop" | "Escalate";
}

/** Where a rung (not the last) ended: what the policy sees before deciding whether to climb. */
export interface RungEnd {
  mode: SolveMode;
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

/** What one rung did: its mode (and, on a ladder of models, its agent's model), its tests and its spend. */
export interface RungReport {
  /** 1 is the cheapest rung. */
  rung: number;
  mode: SolveMode;
  agent?: Agent;
  model?: string;
  /** The orchestrator's test run on the rung's change; unset on the last rung, which the grade judges. */
  tests?: "passed" | "failed";
  costUsd: number;
  tokens: number;
}

export interface LadderOutcome extends SolveOutcome {
  escalations: number;
  rungs: RungReport[];
}

/** The modes the policy may start in: a ladder of modes' rungs, or (a ladder of models) the modes whose script calls its agent. */
export function solveStartModes(ladder: Ladder): readonly SolveMode[] {
  if (ladder.kind === "modes") return startModes(ladder);
  return MODES.filter((mode) => MODE_SPECS.repository[mode].script.some((step) => step.agent === ladder.agent));
}

/** The modes a ladder may run from its start: each one's models must answer before the run starts. */
export function rungModes(ladder: Ladder, startMode: SolveMode): SolveMode[] {
  return ladder.kind === "modes" ? ladder.modes.slice(startRung(ladder, startMode)) : [startMode];
}

const DIFF_CHARS = 8_000;

export async function climbSolveLadder(context: SolveContext, plan: LadderPlan): Promise<LadderOutcome> {
  const { ladder, startMode } = plan;
  const { trajectory } = context;
  const last = rungCount(ladder) - 1;
  const work = newSolveWork();
  const worked = new Set<Agent>();
  const allRan: Agent[] = [];
  let resumed = 0; // agents of work.ran a new rung counts as run already (see resumePoint)
  const rungs: RungReport[] = [];
  const climbed: { mode: SolveMode; steps: StepDraft[] }[] = [];
  for (let rung = startRung(ladder, startMode); ; rung += 1) {
    const mode = modeOnRung(ladder, rung, startMode);
    const before = trajectory.spend();
    const firstStep = trajectory.steps.length;
    await runSolveScript(mode, { ...context, models: modelsOnRung(ladder, rung, context.models, plan.backend) }, work);
    for (const agent of work.ran) worked.add(agent);
    allRan.push(...work.ran.slice(resumed));
    // The last rung's change is graded next; any other is checked now (work.lastRun is already the verdict on the change as it stands).
    const check = rung < last && !work.stoppedBy ? (work.lastRun ?? (await recordedCheck(context, work))) : undefined;
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
    const diff = await context.diff();
    const cascade = check.passed && diff.trim() ? "Stop" : "Escalate";
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
          trajectory: { rungs: [...climbed], startRung: startRung(ladder, startMode), rungCount: last + 1 },
        })
      : cascade;
    if (choice === "Stop") {
      if (cascade === "Escalate") plan.log(`ladder: the policy stops on rung ${rung + 1} (${describeRung(ladder, rung)}) with ${diff.trim() ? "the tests failing" : "no change made"}`);
      break;
    }

    const reason = !diff.trim() ? "no change made" : check.passed ? "the tests passing, and the policy climbing all the same" : `the tests failing (exit ${check.exitCode})`;
    const spent = `$${(after.usd - before.usd).toFixed(4)}, ${after.tokens - before.tokens} tokens`;
    trajectory.addEscalation(`rung ${rung + 2} of ${last + 1}: ${describeRung(ladder, rung + 1)}`, `rung ${rung + 1} (${describeRung(ladder, rung)}, ${spent}) ended with ${reason}`);
    plan.log(`ladder: rung ${rung + 1} (${describeRung(ladder, rung)}) ended with ${reason}; escalating to ${describeRung(ladder, rung + 1)}`);
    // The next rung inherits the workspace, the plan and the reproduction tests, and is told how the change fares.
    work.carryOver = { diff: diff.trim() ? clip(diff, DIFF_CHARS) : "(no change)", testReport: testReport(check) };
    work.lastRun = check;
    work.review = undefined;
    const next = modeOnRung(ladder, rung + 1, startMode);
    work.ran = resumePoint(MODE_SPECS.repository[next].script, ladder.kind === "models" ? ladder.agent : "Coder", worked, context);
    resumed = work.ran.length;
  }
  return { ...solveOutcome(work), escalations: rungs.length - 1, rungs };
}

/**
 * Where a new rung's script resumes, as the agents it counts as having run: it starts at the
 * escalated agent (the Coder on a ladder of modes, the laddered agent on a ladder of models), and
 * the steps before that whose agents already worked on a cheaper rung are not repeated (their
 * plan and reproduction tests are kept); steps a cheaper rung never ran, such as a deeper mode's
 * Planner, run first.
 */
export function resumePoint(script: readonly ScriptStep[], firstAgent: Agent, worked: ReadonlySet<Agent>, settings: Pick<ScriptSettings, "debugRounds">): Agent[] {
  const ran: Agent[] = [];
  for (const step of script) {
    if (step.agent === firstAgent) break;
    if (!worked.has(step.agent)) continue;
    const times = step.rounds ? settings.debugRounds + step.rounds.extraRounds : 1;
    for (let round = 0; round < times; round += 1) ran.push(step.agent);
  }
  return ran;
}
