import type { Sandbox } from "../../../sandbox/sandbox.js";
import type { Task } from "../../../tasks/task.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../program.js";
import { rubricScale } from "../scorers/rubric.js";
import { scoreCompletion, type CriterionScore } from "../scorers/index.js";
import type { EndState } from "../scorers/scorer.js";
import type { OnDemandTimeLimits } from "../time-limits.js";
import { BatchingSandbox } from "./batching-sandbox.js";
import type { Cheat } from "./cheats.js";

/** Sleeping programs use no CPU: this many wait at a time, so the sleep cheat costs seconds, not minutes. */
const IDLE_WORKERS = 32;

export interface AuditOptions {
  tasks: readonly Task[];
  sandbox: Sandbox;
  cheats: readonly Cheat[];
  /** The limit of a case that sets none (default: the reference harness's 3 s); HumanEval+'s floor. */
  timeoutSeconds?: number;
  /** HumanEval+: limits scaled per task, measured where a program ran out of the floor (as `koderz evaluate` does). */
  timeLimits?: OnDemandTimeLimits;
  /** Programs at a time (default: the sandbox's). */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * A workspace holding an agentic case's files (a koderz-workspace container), for agentic
   * cheats; without it agentic cases are listed as not audited.
   */
  openWorkspace?: (files: Record<string, string>, signal?: AbortSignal) => Promise<EndState & { close(): Promise<void> }>;
}

/** How one program (a cheat, or the case's reference) fared on a case. */
interface Outcome {
  /** tests and match: the verdict passed; rubric: the executable criteria alone reach the pass score. */
  passed: boolean;
  /** rubric: the pass score is reached if the judge model gives every judged criterion 5. */
  passedIfJudgeFooled: boolean;
  verdict: string;
  timedOut: boolean;
  criteria: CriterionScore[];
}

export interface CaseAudit {
  caseId: string;
  scorer: string;
  /** The grader's limit the programs ran under, in seconds; null for rubric cases (each criterion has its own). */
  timeLimitSeconds: number | null;
  /** The case's own solution through the same judge: a case whose reference fails is broken, not strict. */
  reference: { passed: boolean; verdict: string } | null;
  /** Cheats the case counts as solved. */
  passedBy: string[];
  /** rubric: cheats that would pass if the judge model were fooled into full marks. */
  passedIfJudgeFooled: string[];
  /** rubric: criteria no program decides, only a judge model. */
  judgeOnlyCriteria: string[];
  /** rubric: executable criteria some cheat meets, with the cheats. */
  criteriaMetByCheats: { criterion: string; cheats: string[] }[];
  /** The verdict of each cheat that ran, by name (a cheat with nothing to attack here is absent). */
  verdicts: Record<string, string>;
}

export interface SuiteAudit {
  cases: CaseAudit[];
  /** Cases no cheat can reach, with why. */
  notAudited: { caseId: string; reason: string }[];
}

/**
 * Runs every cheat against every case through the case's own scorer, in the sandbox, with the
 * limits `koderz evaluate` would use, plus each case's reference as a control. Agentic cases
 * (a workspace and tool calls) are listed as not audited: a function cheat has nothing there to answer.
 */
export async function auditSuite(options: AuditOptions): Promise<SuiteAudit> {
  const floor = options.timeLimits?.floorSeconds ?? options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const notAudited: SuiteAudit["notAudited"] = [];
  const audited = options.tasks.filter((task) => !task.workspace);
  const agenticCheats = options.cheats.filter((cheat) => cheat.agentic);
  const agentic: CaseAudit[] = [];
  for (const task of options.tasks.filter((t) => t.workspace)) {
    if (options.signal?.aborted) break;
    if (agenticCheats.length === 0) notAudited.push({ caseId: task.id, reason: "agentic case, and no agentic cheat (does-nothing) was chosen" });
    else if (!options.openWorkspace) notAudited.push({ caseId: task.id, reason: "agentic case: its workspace is a Docker container, and the process sandbox has none" });
    else {
      const audit = await auditAgenticCase(task, agenticCheats, options.openWorkspace, options.sandbox, options.signal);
      if ("reason" in audit) notAudited.push(audit);
      else agentic.push(audit);
    }
  }
  const limits = options.timeLimits ? await options.timeLimits.known(audited) : new Map<string, number>();
  const limitOf = (task: Task) => task.timeoutSeconds ?? limits.get(task.id) ?? floor;

  interface Attempt {
    task: Task;
    /** A cheat's name, or undefined for the reference. */
    cheat?: Cheat;
    completion: string;
    outcome?: Outcome;
  }
  const attempts: Attempt[] = audited.flatMap((task) => [
    ...(task.canonicalSolution.trim() ? [{ task, completion: task.canonicalSolution }] : []),
    ...options.cheats.flatMap((cheat) => {
      const completion = cheat.completion(task);
      return completion === undefined ? [] : [{ task, cheat, completion }];
    }),
  ]);

  let done = 0;
  // A program that never answers meets the same timeout at any limit, so the sleeping cheats wait
  // out the floor, not a scaled limit (measured on a busy machine, one can be minutes long).
  const limitFor = (attempt: Attempt) => (attempt.cheat?.idle ? Math.min(limitOf(attempt.task), floor) : limitOf(attempt.task));
  const score = async (sandbox: Sandbox, attempt: Attempt) => {
    attempt.outcome = await outcomeOf(sandbox, attempt.task, attempt.completion, limitFor(attempt), options.signal);
    options.onProgress?.(++done, attempts.length);
  };
  const scoreAll = async (chosen: readonly Attempt[], workers: number | undefined) => {
    const batching = new BatchingSandbox(options.sandbox, { workers, signal: options.signal });
    await Promise.all(chosen.map((attempt) => score(batching, attempt)));
  };
  options.onProgress?.(0, attempts.length);
  await scoreAll(attempts.filter((attempt) => !attempt.cheat?.idle), options.workers);
  if (!options.signal?.aborted) await scoreAll(attempts.filter((attempt) => attempt.cheat?.idle), IDLE_WORKERS);

  // As `koderz evaluate` does: a program out of the floor on a task whose limit is not known yet
  // runs again under the limit measured from the task's canonical solution.
  const onDemand = options.timeLimits;
  const outOfFloor = attempts.filter((a) => a.outcome?.timedOut && !a.cheat?.idle && a.task.timeoutSeconds === undefined && !limits.has(a.task.id));
  if (onDemand && outOfFloor.length > 0 && !options.signal?.aborted) {
    for (const [id, limit] of await onDemand.measure([...new Set(outOfFloor.map((a) => a.task))])) limits.set(id, limit);
    const again = outOfFloor.filter((a) => limitOf(a.task) > floor);
    done -= again.length;
    await scoreAll(again, options.workers);
  }

  // A busy machine can push a program past its limit, and a cheat that timed out there might
  // pass: each runs once more before the audit counts it as failing.
  const late = attempts.filter((a) => a.outcome?.timedOut && !a.cheat?.idle);
  if (late.length > 0 && !options.signal?.aborted) {
    done -= late.length;
    await scoreAll(late, options.workers);
  }

  const functionCases = audited.map((task) => caseAudit(task, attempts.filter((a) => a.task === task), limitOf(task)));
  const order = new Map(options.tasks.map((task, i) => [task.id, i]));
  const cases = [...functionCases, ...agentic].sort((a, b) => order.get(a.caseId)! - order.get(b.caseId)!);
  return { cases, notAudited };
}

/**
 * An agentic case against its cheats: each scored by the case's own tool-trace scorer on a fresh
 * workspace holding the case's files, with the tool calls the cheat made (none). Its reference is
 * a list of tool calls only the agents' tools can replay, so it is not checked here.
 */
async function auditAgenticCase(
  task: Task,
  cheats: readonly Cheat[],
  openWorkspace: NonNullable<AuditOptions["openWorkspace"]>,
  sandbox: Sandbox,
  signal?: AbortSignal,
): Promise<CaseAudit | { caseId: string; reason: string }> {
  const verdicts: Record<string, string> = {};
  const passedBy: string[] = [];
  for (const cheat of cheats) {
    let workspace: Awaited<ReturnType<typeof openWorkspace>>;
    try {
      workspace = await openWorkspace(task.workspace!.files, signal);
    } catch (error) {
      return { caseId: task.id, reason: `agentic case: its workspace could not be opened (${error instanceof Error ? error.message.split("\n")[0] : String(error)})` };
    }
    try {
      const result = await scoreCompletion({ task, completion: "", sandbox, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, signal, agentic: { workspace, toolCalls: [] } });
      verdicts[cheat.name] = cut(result.verdict);
      if (result.passed) passedBy.push(cheat.name);
    } finally {
      await workspace.close();
    }
  }
  return {
    caseId: task.id,
    scorer: task.scoring?.scorer ?? "tool-trace",
    timeLimitSeconds: null,
    reference: null,
    passedBy,
    passedIfJudgeFooled: [],
    judgeOnlyCriteria: [],
    criteriaMetByCheats: [],
    verdicts,
  };
}

async function outcomeOf(sandbox: Sandbox, task: Task, completion: string, timeoutSeconds: number, signal?: AbortSignal): Promise<Outcome> {
  const result = await scoreCompletion({ task, completion, sandbox, timeoutSeconds, signal });
  const criteria = result.criteria ?? [];
  if (task.scoring?.scorer !== "rubric") {
    return { passed: result.passed, passedIfJudgeFooled: result.passed, verdict: result.verdict, timedOut: result.verdict === "timed out", criteria };
  }
  // No judge model is asked: its criteria count 0 (the worst it could give) or, fooled, full marks.
  const passScore = task.scoring.passScore;
  const fooled = criteria.map((criterion) => (criterion.by === "judge" ? { ...criterion, value: 1 } : criterion));
  const executable = criteria.filter((criterion) => criterion.by !== "judge");
  const failing = executable.filter((criterion) => criterion.value !== 1).map((criterion) => criterion.name);
  const holding = `${executable.length - failing.length} of ${executable.length} executable criteria hold${failing.length ? ` (not: ${failing.join(", ")})` : ""}`;
  return {
    passed: rubricScale(criteria) >= passScore,
    passedIfJudgeFooled: rubricScale(fooled) >= passScore,
    verdict: `${holding}; ${rubricScale(criteria).toFixed(2)}/5 with the judged ones at 1, ${rubricScale(fooled).toFixed(2)}/5 at 5 (pass ${passScore})`,
    timedOut: false,
    criteria,
  };
}

function caseAudit(task: Task, attempts: readonly { cheat?: Cheat; outcome?: Outcome }[], limit: number): CaseAudit {
  const rubric = task.scoring?.scorer === "rubric";
  const reference = attempts.find((a) => !a.cheat)?.outcome;
  const cheats = attempts.filter((a): a is { cheat: Cheat; outcome: Outcome } => a.cheat !== undefined && a.outcome !== undefined);
  const criteria = task.scoring?.scorer === "rubric" ? task.scoring.criteria : [];
  return {
    caseId: task.id,
    scorer: task.scoring?.scorer ?? "tests",
    timeLimitSeconds: rubric ? null : limit,
    reference: reference ? { passed: rubric ? referenceHoldsEveryCheck(reference) : reference.passed, verdict: cut(reference.verdict) } : null,
    passedBy: cheats.filter((a) => a.outcome.passed).map((a) => a.cheat.name),
    passedIfJudgeFooled: rubric ? cheats.filter((a) => a.outcome.passedIfJudgeFooled && !a.outcome.passed).map((a) => a.cheat.name) : [],
    judgeOnlyCriteria: criteria.filter((criterion) => criterion.judge !== undefined).map((criterion) => criterion.name),
    criteriaMetByCheats: criteria.flatMap((criterion) => {
      if (criterion.judge !== undefined) return [];
      const meeting = cheats.filter((a) => a.outcome.criteria.some((c) => c.name === criterion.name && c.by !== "judge" && c.value === 1)).map((a) => a.cheat.name);
      return meeting.length ? [{ criterion: criterion.name, cheats: meeting }] : [];
    }),
    verdicts: Object.fromEntries(cheats.map((a) => [a.cheat.name, cut(a.outcome.verdict)])),
  };
}

/** A rubric's reference is sound when every criterion a program decides holds for it. */
function referenceHoldsEveryCheck(outcome: Outcome): boolean {
  return outcome.criteria.every((criterion) => criterion.by === "judge" || criterion.value === 1);
}

/** Verdicts are kept to a line: the report is about which cheats pass, not why each one failed. */
const VERDICT_CHARS = 200;

function cut(verdict: string): string {
  return verdict.length > VERDICT_CHARS ? `${verdict.slice(0, VERDICT_CHARS - 1)}…` : verdict;
}
