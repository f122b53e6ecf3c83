import type { Command } from "commander";
import { registerSpeedTestCommand } from "./speed-test.js";
import { registerResults } from "./results.js";
import { registerCompare } from "./compare.js";
import { registerReport } from "./report.js";
import { registerView } from "./view.js";
import { registerEvaluate } from "./evaluate.js";
import { registerSandboxCommand } from "./sandbox.js";
import { registerBenchmark } from "./benchmark.js";
import { registerRun } from "./run.js";
import { registerTrainMetaCommand } from "./train-meta.js";
import { registerSolve } from "./solve.js";
import { registerMcp } from "./mcp.js";
import { registerWorker } from "./worker.js";

/** Every command lives in its own file and registers itself here, one line each. */
export function registerCommands(program: Command): void {
  registerSpeedTestCommand(program);
  registerResults(program);
  registerCompare(program);
  registerReport(program);
  registerView(program);
  registerEvaluate(program);
  registerSandboxCommand(program);
  registerBenchmark(program);
  registerRun(program);
  registerTrainMetaCommand(program);
  registerSolve(program);
  registerMcp(program);
  registerWorker(program);
}
