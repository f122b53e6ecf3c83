import { z } from "zod";
import { renderSuiteFigures } from "./suite-tables.js";
import { renderEscalations } from "./escalation-table.js";
import { armQuality, renderQualityFigures } from "./quality-figures.js";
import { formatCount, formatDollars, formatPercent, renderTable } from "./table.js";
import { parseOptions } from "./parse.js";
import { checkWritableDir, checkWritableFile, writeFileAtomically } from "../output-file.js";
import type { ResultsShowDocument } from "./json-documents.js";
import {
  buildRunSummary,
  escalationFigures,
  experimentExportRows,
  openStore,
  resolveRun,
  runListDocument,
  runListing,
  runTitle,
  RUN_KINDS,
  RUN_STATUSES,
  SCHEMA_VERSION,
  toCsv,
  toJsonl,
  type RunListing,
  type Store,
} from "../store/index.js";

/**
 * `koderz results list | show | measure | export | tag | stage`, once parsed (results.ts holds
 * their flags). Data goes to stdout, confirmations to stderr.
 */
export function listAction(raw: unknown): void {
  const options = parseOptions(ListOptions, raw);
  withStore(options.db, (store) => listRuns(store, options));
}

export function showAction(runId: string, raw: unknown): void {
  const options = parseOptions(JsonDbOptions, raw);
  withStore(options.db, (store) => showRun(store, resolveRun(store, runId).runId, options.json));
}

export async function measureAction(runId: string, raw: unknown): Promise<void> {
  const options = parseOptions(MeasureOptions, raw);
  // The sandbox and the suites are loaded only when the flags are good.
  const { measureRun } = await import("./results-measure.js");
  checkWritableDir(options.resultsDir, "--results-dir");
  const store = openStore({ path: options.db, mustExist: true });
  try {
    await measureRun(store, resolveRun(store, runId).runId, options.sandbox, options.resultsDir);
  } finally {
    store.close();
  }
}

export function exportAction(runId: string, raw: unknown): void {
  const options = parseOptions(ExportOptions, raw);
  if (options.output) checkWritableFile(options.output, "--output");
  withStore(options.db, (store) => exportRun(store, resolveRun(store, runId).runId, options));
}

export function tagAction(runId: string, tags: string[], raw: unknown): void {
  const options = parseOptions(DbOptions, raw);
  withStore(
    options.db,
    (store) => {
      const run = resolveRun(store, runId);
      store.addTags(run.runId, tags);
      process.stderr.write(`tagged ${runTitle(run)}: ${tags.join(", ")}\n`);
    },
    "write",
  );
}

export function stageAction(runId: string, stage: string | undefined, raw: unknown): void {
  const options = parseOptions(StageOptions.refine((o) => o.clear !== (stage !== undefined), "give either a STAGE or --clear"), raw);
  const label = options.clear ? undefined : parseOptions(StageLabel, { stage }).stage;
  withStore(
    options.db,
    (store) => {
      const run = resolveRun(store, runId);
      store.setStage(run.runId, label);
      process.stderr.write(label ? `${runTitle(run)}: stage ${label}\n` : `${runTitle(run)}: stage cleared\n`);
    },
    "write",
  );
}

// ── options ────────────────────────────────────────────────────────────────────────────────

const DbOptions = z.object({ db: z.string().min(1).optional() });
const JsonDbOptions = DbOptions.extend({ json: z.boolean().default(false) });

const ListOptions = JsonDbOptions.extend({
  tags: z
    .string()
    .transform((value) => value.split(",").map((tag) => tag.trim()).filter(Boolean))
    .optional(),
  model: z.string().min(1).optional(),
  problem: z.string().min(1).optional(),
  kind: z.enum(RUN_KINDS).optional(),
  stage: z.string().min(1).optional(),
  label: z.string().min(1).optional(),
  suite: z.string().min(1).optional(),
  status: z.enum(RUN_STATUSES).optional(),
});

const ExportOptions = DbOptions.extend({
  format: z.enum(["csv", "json", "jsonl"]),
  output: z.string().min(1).optional(),
});

const MeasureOptions = DbOptions.extend({ sandbox: z.enum(["docker", "process"]).optional(), resultsDir: z.string().min(1) });
const StageOptions = DbOptions.extend({ clear: z.boolean().default(false) });
const StageLabel = z.object({ stage: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a stage is one word: letters, digits, _ . -") });

/**
 * Commands never create a store here: a wrong --db path is an error, not an empty list. Reading
 * commands open it read-only, so they work on a store the user may not write and never touch it.
 */
export function withStore<T>(db: string | undefined, use: (store: Store) => T, access: "read" | "write" = "read"): T {
  const store = openStore({ path: db, mustExist: true, readOnly: access === "read" });
  try {
    return use(store);
  } finally {
    store.close();
  }
}

// ── list ───────────────────────────────────────────────────────────────────────────────────

function listRuns(store: Store, options: z.infer<typeof ListOptions>): void {
  const runs = store.listRuns({
    tags: options.tags,
    model: options.model,
    problem: options.problem,
    kind: options.kind,
    stage: options.stage,
    label: options.label,
    suite: options.suite,
    status: options.status,
  });
  const listings = runs.map((run) => runListing(run, store.armTotals(run.runId)));
  if (options.json) {
    process.stdout.write(JSON.stringify(runListDocument(listings), null, 2) + "\n");
    return;
  }
  if (listings.length === 0) {
    process.stderr.write("no runs match\n");
    return;
  }
  const table = renderTable(
    ["run", "id", "model(s)", "mode", "suite", "status", "start", "problems", "success", "tokens in/out", "cost"],
    listings.map((l) => [
      l.label ?? l.name,
      l.runId,
      l.models.join(", ") || "-",
      l.stage ? `${l.mode} (${l.stage})` : l.mode,
      l.suite ?? "-",
      l.status,
      shortTime(l.startTime),
      String(l.problems),
      successCell(l.arms),
      tokensCell(l.inputTokens, l.outputTokens),
      costCell(l.costUsd),
    ]),
    ["left", "left", "left", "left", "left", "left", "left", "right", "left", "right", "right"],
  );
  process.stdout.write(table);
}

/** Tokens in / out, or n/a when the run did not log them. */
export function tokensCell(input: number | null, output: number | null): string {
  return input === null || output === null ? "n/a" : `${formatCount(input)} / ${formatCount(output)}`;
}

/** Dollars, or n/a when the run did not log its costs (unknown is not free). */
export function costCell(cost: number | null): string {
  return cost === null ? "n/a" : formatDollars(cost);
}

/** One arm: its rate; several (a comparative run): each arm named; none yet: a dash. */
function successCell(arms: RunListing["arms"]): string {
  if (arms.length === 0) return "-";
  const rate = (a: RunListing["arms"][number]) => (a.successRate === null ? "-" : formatPercent(a.successRate * 100));
  if (arms.length === 1) return rate(arms[0]!);
  return arms.map((a) => `${a.arm} ${rate(a)}`).join(", ");
}

// ── show ───────────────────────────────────────────────────────────────────────────────────

function showRun(store: Store, runId: string, json: boolean): void {
  const run = store.getRun(runId);
  const experiments = store.experiments(runId);
  const rows = experimentExportRows(store, runId);
  const quality = armQuality(store, run, experiments);
  const listing = runListing(run, store.armTotals(runId));
  if (json) {
    const document: ResultsShowDocument = {
      schemaVersion: SCHEMA_VERSION,
      run: { ...listing, config: run.config },
      experiments: rows,
      quality,
      escalations: escalationFigures(run, experiments),
      failedJobs: store.jobFailures(runId),
    };
    process.stdout.write(JSON.stringify(document, null, 2) + "\n");
    return;
  }
  const facts: [string, string][] = [
    ["run", `${listing.name} (${run.runId})`],
    ["kind", run.kind],
    ["mode", run.mode],
    ["models", listing.models.join(", ") || "-"],
    ["suite", listing.suite ?? "-"],
    ["stage", run.stage ?? "-"],
    ["status", run.status],
    ["start", run.startTime],
    ["end", run.endTime ?? "-"],
    ["tags", run.tags.join(", ") || "-"],
    ...listing.arms.map(
      (a): [string, string] => [
        `arm ${a.arm}`,
        `${a.successes}/${a.experiments} solved (${a.successRate === null ? "-" : formatPercent(a.successRate * 100)}), ` +
          `${tokensCell(a.inputTokens, a.outputTokens)} tokens, ${costCell(a.costUsd)}`,
      ],
    ),
    // Queued problems that failed on every attempt (shared store): they have no experiment row.
    ...store.jobFailures(runId).map((f): [string, string] => (f.attempts ? [`failed ${f.arm}`, `${f.problemId} after ${f.attempts} attempts: ${f.error}`] : ["rejected job", f.error])),
    ["config", JSON.stringify(run.config)],
  ];
  const width = Math.max(...facts.map(([key]) => key.length));
  process.stdout.write(facts.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join("\n") + "\n\n");
  if (rows.length === 0) {
    process.stdout.write("no experiments yet\n");
    return;
  }
  process.stdout.write(
    renderTable(
      ["arm", "problem", "success", "CC", "MI", "iterations", "tokens in/out", "cost", "wall s", "verdict"],
      rows.map((r) => [
        r.arm,
        r.problemId,
        r.success ? "yes" : "no",
        r.cyclomaticComplexity === null ? "-" : String(r.cyclomaticComplexity),
        r.maintainabilityIndex === null ? "-" : r.maintainabilityIndex.toFixed(1),
        String(r.iterations),
        tokensCell(r.inputTokens, r.outputTokens),
        costCell(r.costUsd),
        r.wallSeconds.toFixed(1),
        oneLine(r.verdict ?? "", 60),
      ]),
      ["left", "left", "left", "right", "right", "right", "right", "right", "right", "left"],
    ),
  );
  process.stdout.write(renderSuiteFigures(experiments, typeof run.config.localModel === "string" ? run.config.localModel : undefined));
  process.stdout.write(renderEscalations(escalationFigures(run, experiments)));
  process.stdout.write(renderQualityFigures(quality));
}

// ── export ─────────────────────────────────────────────────────────────────────────────────

function exportRun(store: Store, runId: string, options: z.infer<typeof ExportOptions>): void {
  const text =
    options.format === "json"
      ? JSON.stringify(buildRunSummary(store, runId), null, 2) + "\n"
      : options.format === "csv"
        ? toCsv(experimentExportRows(store, runId))
        : toJsonl(experimentExportRows(store, runId));
  if (options.output) {
    writeFileAtomically(options.output, text);
    process.stderr.write(`wrote ${options.output}\n`);
  } else {
    process.stdout.write(text);
  }
}

function shortTime(iso: string): string {
  return iso.replace("T", " ").slice(0, 19);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}
