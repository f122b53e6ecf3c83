import type { Command } from "commander";

/**
 * `koderz report RUN... --output report.html`: one self-contained HTML file with charts. Its
 * flags here; the store and the report (report-action.ts) load once they parse.
 */
export function registerReport(program: Command): void {
  program
    .command("report")
    .argument("<runs...>", "run ids (`koderz results list` shows them)")
    .requiredOption("--output <file>", "the HTML file to write, e.g. report.html")
    .option("--metrics <file>", "a train-meta metrics JSONL to chart (return, cumulative regret, mode mix); repeat for several", collect, [])
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .action(async (runIds: string[], raw: unknown) => (await import("./report-action.js")).writeReport(runIds, raw));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
