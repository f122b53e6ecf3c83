import type { Command } from "commander";
import { KoderzError } from "../errors.js";
import { addAgentOptions } from "./benchmark-flags.js";
import type { RunFlagsRaw } from "./run-action.js";

/** `koderz run --problem-id HumanEval/0`: its flags here; the run itself (run-action.ts) loads once they are checked. */
export function registerRun(program: Command): void {
  const command = program
    .command("run")
    .requiredOption("--problem-id <id>", "e.g. HumanEval/0")
    .option("--mode <mode>", "zero-shot | iterative | fast | standard | deep | auto (with --policy)", "standard");
  addAgentOptions(command).action(async (raw: RunFlagsRaw) => {
    // Flags first: a usage error answers before any model, dataset or sandbox is looked at.
    if ((await import("./benchmark-options.js")).parseBenchmarkFlags(raw).mode === "comparative") {
      throw new KoderzError("usage", "`koderz run` runs one mode", "use `koderz benchmark START END --mode comparative` to compare modes");
    }
    await (await import("./run-action.js")).runOneProblem(raw);
  });
}
