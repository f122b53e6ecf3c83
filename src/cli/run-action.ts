import type { Task } from "../../tasks/task.js";
import type { StepDraft } from "../orchestrator/trajectory.js";
import { MODEL_CALL } from "../store/index.js";
import { BenchmarkOptions } from "./benchmark-options.js";
import { parseOptions } from "./parse.js";

/** `koderz run`, once its flags are checked: one problem, recorded as a one-problem run, with a trace on stderr. */
export async function runOneProblem(raw: RunFlagsRaw): Promise<void> {
  const { newRunRequest, runBenchmarkCommand, withDefaultModels } = await import("./benchmark-run.js");
  const flags = parseOptions(BenchmarkOptions, await withDefaultModels({ ...raw, concurrency: "1" }));
  // The session finds the problem in the dataset once the models have answered.
  await runBenchmarkCommand(newRunRequest(flags, { problemIds: [raw.problemId] }), flags, printStep);
}

export interface RunFlagsRaw {
  problemId: string;
  localModel?: string;
  frontierModel?: string;
  config?: string;
}

function printStep(task: Task, arm: string, step: StepDraft, index: number): void {
  const lines = [
    `\n── ${task.id} [${arm}] step ${index + 1}: ${step.agent}${step.action === MODEL_CALL ? "" : ` ${step.action}`} (${step.model ?? "?"}) ` +
      `${step.inputTokens}+${step.outputTokens} tokens, $${step.costUsd.toFixed(4)}, ${Math.round(step.latencyMs)} ms`,
  ];
  if (step.code !== undefined) lines.push(indent(step.code.trimEnd()));
  else if (step.response) lines.push(indent(step.response.trim().slice(0, 1200)));
  if (step.testOutput) lines.push(indent(step.testOutput));
  process.stderr.write(lines.join("\n") + "\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `   ${line}`)
    .join("\n");
}
