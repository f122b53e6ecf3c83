import { z } from "zod";
import type { Program } from "../../../sandbox/sandbox.js";
import type { Criterion } from "../../../tasks/suite-schema.js";
import type { Task } from "../../../tasks/task.js";
import type { ModelBackend } from "../../llm/types.js";
import { JudgeVerdictSchema, readJudgeVerdict } from "./judge-verdict.js";
import { pythonString } from "./python-literal.js";
import { sandboxLimitOf } from "./sandbox-limits.js";
import { untrustedBlock, UNTRUSTED_TEXT_RULE } from "./untrusted-text.js";
import type { CriterionScore, ScoreInput, Scorer, ScorerCall } from "./scorer.js";

/** Seconds an executable criterion may run when the suite does not say: generous, as criteria run many at once. */
const DEFAULT_CRITERION_SECONDS = 10;

/**
 * Weighted criteria, each decided by a program where one can decide it (hidden tests, an AST
 * check, a stress test) and by the judge model otherwise. The weighted mean of the criteria
 * (each 0..1) maps linearly onto the 1-5 scale: all failing is 1, all holding is 5. A case passes
 * at its pass score, and never while a criterion could not be decided.
 */
export const rubricScorer: Scorer = {
  name: "rubric",
  async score(input) {
    const { task } = input;
    if (task.scoring?.scorer !== "rubric") throw new Error(`rubric scorer given a ${task.scoring?.scorer ?? "tests"} case`);
    const { criteria, passScore } = task.scoring;
    const [executed, judged] = await Promise.all([runExecutable(input, criteria), askJudge(input, criteria)]);
    const scores = criteria.map((criterion, i) => executed.get(i) ?? judged.scores.get(i)!);
    const score = rubricScale(scores);
    const undecided = scores.filter((s) => s.error);
    const passed = score >= passScore && undecided.length === 0;
    const verdict = `rubric ${score.toFixed(2)}/5 (${passed ? "pass" : "needs"} ${passScore})${undecided.length ? `; undecided: ${undecided.map((s) => `${s.name}: ${s.error}`).join("; ")}` : ""}`;
    return { passed, verdict, score, criteria: scores, calls: judged.calls };
  },
};

/** The weighted mean of the criteria's values on the 1-5 scale. */
export function rubricScale(scores: readonly Pick<CriterionScore, "weight" | "value">[]): number {
  const total = scores.reduce((sum, s) => sum + s.weight, 0);
  const mean = total === 0 ? 0 : scores.reduce((sum, s) => sum + s.weight * s.value, 0) / total;
  return Math.round((1 + 4 * mean) * 100) / 100;
}

async function runExecutable(input: ScoreInput, criteria: readonly Criterion[]): Promise<Map<number, CriterionScore>> {
  const source = `${input.task.prompt}${input.completion}`;
  const wanted = criteria.flatMap((criterion, i) => {
    const code = criterion.check ?? criterion.program;
    return code === undefined ? [] : [{ criterion, i, code }];
  });
  // Every executable criterion is decided by the sandbox's judge, outside the program's process:
  // a `program` criterion too, which drives the program's objects through handles (methods,
  // len(), iteration) and hands it the judge's own functions as callbacks. Code of the program's
  // never decides its own criterion, so an answer that patches how it replies gains nothing.
  const programs: Program[] = wanted.map(({ criterion, i, code }) => ({
    id: `${input.task.id}#${i}`,
    timeoutSeconds: criterion.timeout ?? DEFAULT_CRITERION_SECONDS,
    source,
    check: `__source__ = ${pythonString(source)}\n${code}`,
    judgeSetup: input.task.prompt,
    entryPoint: input.task.entryPoint,
  }));
  const verdicts = programs.length ? await input.sandbox.run(programs) : [];
  return new Map(
    wanted.map(({ criterion, i }, k) => {
      const verdict = verdicts[k]!;
      const infrastructure = sandboxLimitOf(verdict);
      const score: CriterionScore = { name: criterion.name, weight: criterion.weight, by: criterion.check !== undefined ? "check" : "program", value: verdict.passed ? 1 : 0, detail: verdict.result };
      return [i, infrastructure ? { ...score, error: infrastructure } : score];
    }),
  );
}

const JUDGE_SYSTEM = `You are the Judge of a code review rubric. Score the program on each criterion you are given, from 1 (poor) to 5 (excellent), judging only what the criterion asks.
${UNTRUSTED_TEXT_RULE}
Answer with JSON only, exactly this shape: {"criteria": [{"name": "<criterion name as given>", "score": <1-5>, "reason": "<one sentence>"}]}`;

async function askJudge(input: ScoreInput, criteria: readonly Criterion[]): Promise<{ scores: Map<number, CriterionScore>; calls: ScorerCall[] }> {
  const asked = criteria.flatMap((criterion, i) => (criterion.judge !== undefined ? [{ criterion, i }] : []));
  if (asked.length === 0) return { scores: new Map(), calls: [] };
  const undecided = (error: string) =>
    new Map(asked.map(({ criterion, i }) => [i, { name: criterion.name, weight: criterion.weight, by: "judge" as const, value: 0, detail: "", error }]));
  if (!input.judge) return { scores: undecided("no judge model was given"), calls: [] };
  const call = await judgeCall(input.judge, input.task, input.completion, asked.map(({ criterion }) => criterion), input.signal);
  const reading = readJudgeVerdict(call.response.text, asked.map(({ criterion }) => criterion.name));
  if (!reading.ok) return { scores: undecided(reading.error), calls: [call] };
  const scores = new Map(
    asked.map(({ criterion, i }) => {
      const { score, reason } = reading.scores.get(criterion.name)!;
      return [i, { name: criterion.name, weight: criterion.weight, by: "judge" as const, value: (score - 1) / 4, detail: `${score}/5: ${reason}` }];
    }),
  );
  return { scores, calls: [call] };
}

export async function judgeCall(judge: ModelBackend, task: Task, completion: string, asked: readonly Criterion[], signal?: AbortSignal): Promise<ScorerCall> {
  // The program holds the model's answer: text the judge must read as data, never as instructions.
  const user = [
    "The task (trusted, from the suite):",
    "```python\n" + task.prompt.trimEnd() + "\n```",
    untrustedBlock("The program to judge", `${task.prompt}${completion}`.trimEnd()),
    "Criteria:",
    ...asked.map((criterion) => `- ${criterion.name}: ${criterion.judge}`),
  ].join("\n\n");
  const response = await judge.chat({
    messages: [
      { role: "system", content: JUDGE_SYSTEM },
      { role: "user", content: user },
    ],
    temperature: 0,
    maxTokens: 1024,
    responseSchema: z.toJSONSchema(JudgeVerdictSchema) as Record<string, unknown>,
    signal,
  });
  return { model: judge.model, prompt: `${JUDGE_SYSTEM}\n\n${user}`, response };
}

/** Whether scoring this task asks the judge model anything (a rubric with a judged criterion). */
export function asksJudge(task: Pick<Task, "scoring">): boolean {
  return task.scoring?.scorer === "rubric" && task.scoring.criteria.some((criterion) => criterion.judge !== undefined);
}
