import { z } from "zod";
import { writeFileAtomically } from "../output-file.js";
import { parseOptions } from "./parse.js";
import { withStore } from "./results-actions.js";
import { chartJsBundle } from "../report/chart-library.js";
import { renderHtmlReport } from "../report/html-report.js";
import { buildReportData } from "../report/report-data.js";
import { readTrainingCurves } from "../report/train-metrics.js";

const ReportOptions = z.object({
  output: z.string().min(1),
  metrics: z.array(z.string().min(1)),
  db: z.string().min(1).optional(),
});

/** `koderz report`, once its flags are parsed: one self-contained HTML file with charts. */
export function writeReport(runIds: string[], raw: unknown): void {
  const options = parseOptions(ReportOptions, raw);
  // Metrics first: a bad file fails before the store is opened.
  const training = options.metrics.map((file) => readTrainingCurves(file));
  const data = withStore(options.db, (store) => buildReportData(store, runIds, training));
  // A reader (a browser reloading the file) never sees half a report.
  writeFileAtomically(options.output, renderHtmlReport(data, chartJsBundle()));
  process.stderr.write(`wrote ${options.output}: ${data.columns.length} run arm(s), ${data.matrix.problems.length} problems, ${training.length} metrics file(s)\n`);
}
