import type { Command } from "commander";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import type { StepDraft } from "../orchestrator/trajectory.js";
import { MODEL_CALL } from "../store/index.js";
import { addAgentOptions, BenchmarkOptions } from "./benchmark-flags.js";
import { parseOptions } from "./parse.js";

/** `koderz run --problem-id HumanEval/0`: one problem, recorded as a one-problem run, with a trace on stderr. */
export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .requiredOption("--problem-id <id>", "e.g. HumanEval/0")
    .option("--mode <mode>", "zero-shot | iterative | fast | standard | deep | auto (with --policy)", "standard");
  addAgentOptions(command).action(async (raw: { problemId: string; localModel?: string; frontierModel?: string; config?: string }) => {
    // Flags first: a usage error answers before any model, dataset or sandbox is looked at.
    if (parseOptions(BenchmarkOptions, raw).mode === "comparative") {
      throw new KoderzError("usage", "`koderz run` runs one mode", "use `koderz benchmark START END --mode comparative` to compare modes");
    }
    const [{ loadSuite }, { datasetChoice, newRunRequest, runBenchmarkCommand, withDefaultModels }] = await Promise.all([
      import("../../tasks/load.js"),
      import("./benchmark-run.js"),
    ]);
    const flags = parseOptions(BenchmarkOptions, await withDefaultModels({ ...raw, concurrency: "1" }));
    const dataset = datasetChoice(flags);
    const tasks = await loadSuite({ suite: dataset.suite, dataset: dataset.datasetPath });
    const task = tasks.find((t) => t.id === raw.problemId);
    if (!task) {
      throw new KoderzError("not_found", `no problem ${raw.problemId} in ${dataset.datasetPath ?? dataset.suite}`, `problem ids look like ${tasks[0]?.id ?? "HumanEval/0"}`);
    }
    await runBenchmarkCommand(newRunRequest(flags, [task.index, task.index + 1], [task.id]), flags, printStep);
  });
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
