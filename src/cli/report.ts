import type { Command } from "commander";
import { z } from "zod";
import { writeFileAtomically } from "../output-file.js";
import { parseOptions } from "./parse.js";
import { withStore } from "./results.js";
import { chartJsBundle } from "../report/chart-library.js";
import { renderHtmlReport } from "../report/html-report.js";
import { buildReportData } from "../report/report-data.js";
import { readTrainingCurves } from "../report/train-metrics.js";

/** `koderz report RUN... --output report.html`: one self-contained HTML file with charts. */
export function registerReport(program: Command): void {
  program
    .command("report")
    .argument("<runs...>", "run ids (`koderz results list` shows them)")
    .requiredOption("--output <file>", "the HTML file to write, e.g. report.html")
    .option("--metrics <file>", "a train-meta metrics JSONL to chart (return, cumulative regret, mode mix); repeat for several", collect, [])
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .action((runIds: string[], raw: unknown) => {
      const options = parseOptions(ReportOptions, raw);
      // Metrics first: a bad file fails before the store is opened.
      const training = options.metrics.map((file) => readTrainingCurves(file));
      const data = withStore(options.db, (store) => buildReportData(store, runIds, training));
      // A reader (a browser reloading the file) never sees half a report.
      writeFileAtomically(options.output, renderHtmlReport(data, chartJsBundle()));
      process.stderr.write(`wrote ${options.output}: ${data.columns.length} run arm(s), ${data.matrix.problems.length} problems, ${training.length} metrics file(s)\n`);
    });
}

const ReportOptions = z.object({
  output: z.string().min(1),
  metrics: z.array(z.string().min(1)),
  db: z.string().min(1).optional(),
});

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
