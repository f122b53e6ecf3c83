import type { Command } from "commander";
import { DEFAULT_TIMEOUT_SECONDS } from "../evaluation/program.js";
import type { SandboxOpener } from "./evaluate-flags.js";
import { parseOptions } from "./parse.js";

/**
 * `koderz audit SUITE|PATH`: runs generic cheats (constant answers, echoes, exits, shadowed
 * builtins, ...) against every case of a suite through the sandbox's judge, and prints each case
 * a cheat passes, the share of cheatable cases and, for rubric suites, the criteria only a judge
 * model decides. Data on stdout (text or --json), progress on stderr.
 */
export function registerAudit(program: Command, openSandbox?: SandboxOpener): void {
  program
    .command("audit")
    .argument("<suite>", "a suite by name (humaneval, humaneval+, coder-rubric, mixed), a suite file (.yaml/.json), or a HumanEval-format dataset (.jsonl/.jsonl.gz)")
    .option("--cases <range>", "only the cases START:END (indices, END excluded), START: or one index, e.g. 0:10")
    .option("--cheats <list>", "only these cheats, comma-separated (default: all; the text output lists their names)")
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--workers <n>", "programs run at the same time (default: number of cores)")
    .option("--timeout <seconds>", "time limit of a case that sets none; HumanEval+ scales it up per task as evaluate does", String(DEFAULT_TIMEOUT_SECONDS))
    .option("--no-errata", "read HumanEval/HumanEval+ as published, without koderz's dataset errata (to see what they fix)")
    .option("--json", "print the audit as one JSON object (docs/schemas/audit.schema.json)")
    .addHelpText(
      "after",
      "\nExamples:\n  koderz audit humaneval+\n  koderz audit humaneval+ --no-errata --cheats constant-empty-list\n  koderz audit coder-rubric --json\n  koderz audit my-suite.yaml --cases 0:5 --sandbox process",
    )
    .action(async (suite: string, raw: unknown) => {
      const options = parseOptions((await import("./audit-flags.js")).AuditOptions, raw);
      const { runAudit } = await import("./audit-run.js");
      await runAudit(suite, options, openSandbox);
    });
}
