import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import {
  buildRunSummary,
  compareProblemIds,
  exportRow,
  isComparativeSummary,
  knownFigures,
  resolveRun,
  RUN_KINDS,
  SCHEMA_VERSION,
  runListing,
  type RunSummary,
  type Store,
  type SummaryResult,
} from "../store/index.js";
import { KoderzError } from "../errors.js";
import { compareDocument, compareRuns, DEFAULT_REGRESSION_ALPHA, gateFailures } from "../report/compare.js";
import { findMemories } from "./cortex-memories.js";
import { failureText } from "./failures.js";
import { jsonLength, MAX_PAGE_SIZE, pagingInput, takePage, type Page, type PageRequest } from "./paging.js";
import { experimentView, stepView } from "./record-views.js";
import { getExperiment, selectExperiments, selectRuns } from "./selection.js";
import type { ReadOnlyStoreAccess } from "./store-access.js";

/**
 * The tools an assistant calls. Each answers with JSON (as text, and as structured content)
 * built by the store's queries and the compare code, so its numbers are those of
 * `koderz results` and `koderz compare`. A failure is a tool error with what went wrong and
 * how to fix it; it never stops the server.
 */
export function registerTools(server: McpServer, access: ReadOnlyStoreAccess): void {
  const readOnly = { readOnlyHint: true, openWorldHint: false };

  server.registerTool(
    "list_runs",
    {
      title: "List runs",
      description:
        "Runs in the koderz store, oldest first, with per-arm success, tokens and cost (as `koderz results list --json`). " +
        "tags: all must match; a bare tag also matches key:tag (zero-shot matches mode:zero-shot), and the Cortex tags " +
        "benchmark_run, the run id, the mode and the local model match too.",
      inputSchema: {
        tags: z.array(z.string().min(1)).optional().describe("every tag must match"),
        model: z.string().min(1).optional().describe("runs that used this model id, e.g. ollama:qwen3-coder:30b or kimi-k2"),
        mode: z.string().min(1).optional().describe("zero-shot, iterative, comparative, fast, standard, deep, auto, ..."),
        kind: z.enum(RUN_KINDS).optional(),
        stage: z.string().min(1).optional().describe("the stage label, e.g. baseline"),
        problemId: z.string().min(1).optional().describe("runs with an experiment on this problem, e.g. HumanEval/17"),
        since: IsoTime.optional().describe("runs started at or after this ISO 8601 date or time"),
        ...pagingInput,
        problem_id: legacyName("problemId"),
      },
      annotations: readOnly,
    },
    ({ cursor, limit, problem_id, ...filters }) =>
      answer(access, (store) => {
        const query = { ...filters, problemId: either(filters.problemId, problem_id, "problemId") };
        const runs = selectRuns(store, query);
        const page = takePage(runs, { cursor, limit }, query);
        return { schemaVersion: SCHEMA_VERSION, runs: page.items.map((run) => runListing(run, store.armTotals(run.runId))), total: page.total, nextCursor: page.nextCursor };
      }),
  );

  server.registerTool(
    "get_run",
    {
      title: "Get a run's summary",
      description:
        "The run summary JSON, as `koderz results export RUN --format json` writes it (a comparative run has zeroShot, iterative and comparison). " +
        "Totals always cover the whole run; the per-problem results arrays are paged by problem.",
      inputSchema: { runId: z.string().min(1).optional().describe("a run id or label (required)"), ...pagingInput, run_id: legacyName("runId") },
      annotations: readOnly,
    },
    ({ runId, run_id, cursor, limit }) =>
      answer(access, (store) => {
        const run = required(either(runId, run_id, "runId"), "runId", "a run id or label from list_runs");
        const { summary: paged, page } = pageOfSummary(buildRunSummary(store, resolveRun(store, run).runId), { cursor, limit }, { runId: run });
        return { schemaVersion: SCHEMA_VERSION, summary: paged, problemsTotal: page.total, nextCursor: page.nextCursor };
      }),
  );

  server.registerTool(
    "query_experiments",
    {
      title: "Query experiments",
      description:
        "Experiments (one problem in one arm of a run) as `koderz results export --format jsonl` rows, by run, tags (all must match; " +
        "store tags such as arm:iterative or problem:HumanEval/17, and the Cortex tags result, the experiment id, the problem id, " +
        "completed and the run id), problem, success and arm. Ordered by run (oldest first), arm, then problem.",
      inputSchema: {
        runId: z.string().min(1).optional().describe("a run id or label"),
        tags: z.array(z.string().min(1)).optional().describe("every tag must match"),
        problemId: z.string().min(1).optional().describe("e.g. HumanEval/17"),
        success: z.boolean().optional(),
        arm: z.string().min(1).optional().describe("e.g. zero-shot or iterative; a run's mode when it has one arm"),
        ...pagingInput,
        run_id: legacyName("runId"),
        problem_id: legacyName("problemId"),
      },
      annotations: readOnly,
    },
    ({ cursor, limit, run_id, problem_id, ...filters }) =>
      answer(access, (store) => {
        const query = { ...filters, runId: either(filters.runId, run_id, "runId"), problemId: either(filters.problemId, problem_id, "problemId") };
        const experiments = selectExperiments(store, query);
        const page = takePage(experiments.map((e) => exportRow(e, knownFigures(store.getRun(e.runId)))), { cursor, limit }, query);
        return { schemaVersion: SCHEMA_VERSION, experiments: page.items, total: page.total, nextCursor: page.nextCursor };
      }),
  );

  server.registerTool(
    "get_trajectory",
    {
      title: "Get an experiment's trajectory",
      description:
        "The steps of one experiment in the order they ran (agent, model, prompt, response, code, test output, visible pass fraction, " +
        `tokens, cost, latency). Long texts are clipped to maxFieldChars; the resource koderz://runs/{runId}/experiments/{experimentId} has them whole.`,
      inputSchema: {
        experimentId: z.string().min(1).optional().describe("exp_..., from query_experiments or get_run (required)"),
        maxFieldChars: FieldChars.optional().describe(`characters kept of each text field (default ${DEFAULT_FIELD_CHARS})`),
        ...pagingInput,
        experiment_id: legacyName("experimentId"),
        max_field_chars: FieldChars.optional().describe(legacyText("maxFieldChars")),
      },
      annotations: readOnly,
    },
    ({ experimentId, experiment_id, maxFieldChars, max_field_chars, cursor, limit }) =>
      answer(access, (store) => {
        const id = required(either(experimentId, experiment_id, "experimentId"), "experimentId", "an experiment id (exp_...) from query_experiments or get_run");
        const experiment = getExperiment(store, id);
        const max = either(maxFieldChars, max_field_chars, "maxFieldChars") ?? DEFAULT_FIELD_CHARS;
        const steps = store.steps(id).map((step) => stepView(step, max));
        const header = experimentView(experiment, max);
        const page = takePage(steps, { cursor, limit }, { experimentId: id, max }, { defaultSize: 20, reservedChars: jsonLength(header) });
        return {
          schemaVersion: SCHEMA_VERSION,
          experiment: header,
          steps: page.items,
          totalSteps: page.total,
          nextCursor: page.nextCursor,
        };
      }),
  );

  server.registerTool(
    "compare_runs",
    {
      title: "Compare runs",
      description:
        "The numbers of `koderz compare --json`: per-problem wins, losses and ties against the baseline (the first run, or the one staged baseline), " +
        "success-rate difference with a paired bootstrap 95% interval, McNemar's exact p, tokens, cost and cost per solved problem, over the problems all runs share.",
      inputSchema: {
        runs: z.array(z.string().min(1)).min(1).max(MAX_COMPARED_RUNS).describe("run ids; RUN:ARM picks one arm of a comparative run, e.g. bench_x:zero-shot"),
        arm: z.string().min(1).optional().describe("the arm to compare in runs with several arms"),
        failBelow: Share.optional().describe("gate: a run whose success rate (a fraction) is below this fails"),
        failOnRegression: z.boolean().optional().describe(`gate: a later run worse than the baseline with McNemar p < ${DEFAULT_REGRESSION_ALPHA} fails`),
        fail_below: Share.optional().describe(legacyText("failBelow")),
        fail_on_regression: z.boolean().optional().describe(legacyText("failOnRegression")),
      },
      annotations: readOnly,
    },
    ({ runs, arm, failBelow, fail_below, failOnRegression, fail_on_regression }) =>
      answer(access, (store) => {
        const comparison = compareRuns(store, runs, { arm });
        const below = either(failBelow, fail_below, "failBelow");
        const onRegression = either(failOnRegression, fail_on_regression, "failOnRegression") ?? false;
        const failures = gateFailures(comparison, { failBelow: below, failOnRegression: onRegression });
        return compareDocument(comparison, { failBelow: below, failOnRegression: onRegression, failures });
      }),
  );

  server.registerTool(
    "export_memories",
    {
      title: "Export runs and experiments as Cortex memories",
      description:
        "Runs and experiments as the original koderz stored them in Cortex: memories with content, tags, category, importance and metadata. " +
        'Runs carry ["benchmark_run", run_id, mode, local_model]; experiments ["result", experiment_id, problem_id, "completed", run_id]. ' +
        "A memory is returned when it carries every tag given (none: all memories).",
      inputSchema: { tags: z.array(z.string().min(1)).default([]).describe("every tag must be among the memory's tags"), ...pagingInput },
      annotations: readOnly,
    },
    ({ tags, cursor, limit }) =>
      answer(access, (store) => {
        const page = takePage(findMemories(store, tags), { cursor, limit }, { tags });
        return { schemaVersion: SCHEMA_VERSION, memories: page.items, total: page.total, nextCursor: page.nextCursor };
      }),
  );
}

const DEFAULT_FIELD_CHARS = 4_000;
const FieldChars = z.number().int().min(200).max(50_000);
const Share = z.number().min(0).max(1);

/**
 * Arguments are camelCase, as every koderz JSON document is. The snake_case names of the first
 * MCP release (run_id, problem_id, ...) are still accepted, so prompts and configs written for
 * them keep working; giving both names with different values is an error.
 */
function legacyText(name: string): string {
  return `the former name of ${name}, still accepted; prefer ${name}`;
}

function legacyName(name: string) {
  return z.string().min(1).optional().describe(legacyText(name));
}

function either<T>(value: T | undefined, legacy: T | undefined, name: string): T | undefined {
  if (value !== undefined && legacy !== undefined && value !== legacy) {
    throw new KoderzError("usage", `${name} and its former name disagree (${JSON.stringify(value)} and ${JSON.stringify(legacy)})`, `give ${name} only`);
  }
  return value ?? legacy;
}

function required<T>(value: T | undefined, name: string, what: string): T {
  if (value === undefined) throw new KoderzError("usage", `${name} is required: ${what}`, `call the tool again with ${name}`);
  return value;
}
/** More runs than this is not a comparison an assistant can read. */
const MAX_COMPARED_RUNS = 10;

const IsoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, "an ISO 8601 date or time, e.g. 2026-11-23 or 2026-11-23T18:00:00Z")
  .refine((value) => !Number.isNaN(Date.parse(value)), "not a real date");

/**
 * The summary with its per-problem results cut to one page of problems (every arm the same
 * problems); the totals stay those of the whole run.
 */
function pageOfSummary(summary: RunSummary, request: PageRequest, query: unknown): { summary: RunSummary; page: Page<string> } {
  const arms = isComparativeSummary(summary) ? [summary.zeroShot.results, summary.iterative.results] : [summary.results];
  const chars = new Map<string, number>();
  for (const result of arms.flat()) chars.set(result.problemId, (chars.get(result.problemId) ?? 0) + jsonLength(result));
  const problems = [...chars.keys()].sort(compareProblemIds);
  const page = takePage(problems, request, query, { defaultSize: MAX_PAGE_SIZE, sizeOf: (problem) => chars.get(problem) ?? 0 });
  const shown = new Set(page.items);
  const onPage = (results: SummaryResult[]) => results.filter((r) => shown.has(r.problemId));
  const paged: RunSummary = isComparativeSummary(summary)
    ? {
        ...summary,
        zeroShot: { ...summary.zeroShot, results: onPage(summary.zeroShot.results) },
        iterative: { ...summary.iterative, results: onPage(summary.iterative.results) },
      }
    : { ...summary, results: onPage(summary.results) };
  return { summary: paged, page };
}

/** Runs a query on the store and turns its value, or its failure, into a tool result. */
async function answer(access: ReadOnlyStoreAccess, query: (store: Store) => object): Promise<CallToolResult> {
  try {
    const data = await access.use(query);
    return { content: [{ type: "text", text: JSON.stringify(data) }], structuredContent: data as Record<string, unknown> };
  } catch (error) {
    return { isError: true, content: [{ type: "text", text: failureText(error) }] };
  }
}
