import type { EndStateCheck, TraceCheck } from "../../../tasks/suite-schema.js";
import { rubricScale } from "./rubric.js";
import type { CriterionScore, EndState, Scorer, TracedToolCall } from "./scorer.js";

/** Seconds an end-state command may run when the case does not say. */
const DEFAULT_COMMAND_SECONDS = 30;
/** Output of an end-state command kept in its detail line. */
const DETAIL_CHARS = 300;

/**
 * Agentic cases: facts about the workspace the agents left (files, a command's exit code and
 * output, run in that workspace) and about the tool calls they made (which tools, how often,
 * in what order). Each check holds (1) or not (0); the weighted mean maps onto 1-5 as the rubric's
 * does, and the case passes at its pass score (by default 5: every check holds). Tool calls count
 * whether or not the tool answered with an error: an attempt is an attempt.
 */
export const toolTraceScorer: Scorer = {
  name: "tool-trace",
  async score({ task, agentic }) {
    if (task.scoring?.scorer !== "tool-trace") throw new Error(`tool-trace scorer given a ${task.scoring?.scorer ?? "tests"} case`);
    if (!agentic) throw new Error(`tool-trace scorer given no workspace for ${task.id}: agentic cases are run by the agentic solver`);
    const { endState, trace, passScore } = task.scoring;
    const scores: CriterionScore[] = [];
    // One at a time: commands in one workspace may depend on each other's absence (a build, a lock file).
    for (const check of endState) scores.push(await endStateScore(agentic.workspace, check));
    for (const check of trace) scores.push(traceScore(agentic.toolCalls, check));
    const score = rubricScale(scores);
    const passed = score >= passScore;
    const failing = scores.filter((s) => s.value === 0);
    const verdict = `tool-trace ${score.toFixed(2)}/5 (${passed ? "pass" : "needs"} ${passScore}), ${agentic.toolCalls.length} tool call${agentic.toolCalls.length === 1 ? "" : "s"}${failing.length ? `; not met: ${failing.map((s) => `${s.name} (${s.detail})`).join("; ")}` : ""}`;
    return { passed, verdict, score, criteria: scores, calls: [] };
  },
};

async function endStateScore(workspace: EndState, check: EndStateCheck): Promise<CriterionScore> {
  const weight = check.weight ?? 1;
  const result = (name: string, holds: boolean, detail: string): CriterionScore => ({ name, weight, by: "end-state", value: holds ? 1 : 0, detail });
  if (check.file !== undefined) {
    const text = await workspace.readFile(check.file);
    const name = `file ${check.file} ${fileClaim(check)}`;
    if (check.exists === false) return result(name, text === undefined, text === undefined ? "absent" : "it exists");
    if (text === undefined) return result(name, false, "no such file");
    if (check.equals !== undefined && text !== check.equals) return result(name, false, `its text differs (${text.length} characters, expected ${check.equals.length})`);
    if (check.contains !== undefined && !text.includes(check.contains)) return result(name, false, `${JSON.stringify(check.contains)} is not in it`);
    if (check.not_contains !== undefined && text.includes(check.not_contains)) return result(name, false, `${JSON.stringify(check.not_contains)} is still in it`);
    return result(name, true, "holds");
  }
  const command = check.command!;
  const wantExit = check.exit_code ?? 0;
  const name = `\`${command}\` exits ${wantExit}${check.output_contains !== undefined ? ` printing ${JSON.stringify(check.output_contains)}` : ""}`;
  const run = await workspace.exec(["sh", "-c", command], { timeoutSeconds: check.timeout ?? DEFAULT_COMMAND_SECONDS });
  const output = `${run.stdout}${run.stderr}`;
  const tail = output.trim().slice(-DETAIL_CHARS);
  if (run.timedOut) return result(name, false, `timed out after ${check.timeout ?? DEFAULT_COMMAND_SECONDS} s`);
  if (run.exitCode !== wantExit) return result(name, false, `exit ${run.exitCode}${tail ? `: ${tail}` : ""}`);
  if (check.output_contains !== undefined && !output.includes(check.output_contains)) return result(name, false, `output lacks it${tail ? `: ${tail}` : ""}`);
  return result(name, true, `exit ${run.exitCode}`);
}

function fileClaim(check: EndStateCheck): string {
  if (check.exists === false) return "does not exist";
  const claims = [
    ...(check.equals !== undefined ? ["has the expected text"] : []),
    ...(check.contains !== undefined ? [`contains ${JSON.stringify(check.contains)}`] : []),
    ...(check.not_contains !== undefined ? [`lacks ${JSON.stringify(check.not_contains)}`] : []),
  ];
  return claims.length ? claims.join(" and ") : "exists";
}

function traceScore(calls: readonly TracedToolCall[], check: TraceCheck): CriterionScore {
  const weight = check.weight ?? 1;
  const result = (name: string, holds: boolean, detail: string): CriterionScore => ({ name, weight, by: "trace", value: holds ? 1 : 0, detail });
  if (check.max_calls !== undefined) {
    return result(`at most ${check.max_calls} tool calls`, calls.length <= check.max_calls, `${calls.length} made`);
  }
  if (check.order !== undefined) {
    const firsts = check.order.map((tool) => calls.findIndex((call) => call.tool === tool));
    const missing = check.order.filter((_, i) => firsts[i] === -1);
    const name = `first calls in order ${check.order.join(" < ")}`;
    if (missing.length) return result(name, false, `never called: ${missing.join(", ")}`);
    const inOrder = firsts.every((at, i) => i === 0 || at > firsts[i - 1]!);
    return result(name, inOrder, inOrder ? "holds" : check.order.map((tool, i) => `${tool} first at call ${firsts[i]! + 1}`).join(", "));
  }
  const tool = check.tool!;
  const counted = calls.filter((call) => call.tool === tool && (check.with === undefined || call.arguments.includes(check.with))).length;
  const atLeast = check.at_least ?? (check.at_most === 0 ? 0 : 1);
  const bounds = check.at_most === 0 ? "never called" : `called ${atLeast}${check.at_most !== undefined ? `-${check.at_most}` : "+"} times`;
  const name = `${tool}${check.with !== undefined ? ` with ${JSON.stringify(check.with)}` : ""} ${bounds}`;
  const holds = counted >= atLeast && (check.at_most === undefined || counted <= check.at_most);
  return result(name, holds, `${counted} call${counted === 1 ? "" : "s"}`);
}
