import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Variables } from "@modelcontextprotocol/sdk/shared/uriTemplate.js";
import { KoderzError } from "../errors.js";
import { buildRunSummary, knownFigures, resolveRun, SCHEMA_VERSION, type Store } from "../store/index.js";
import { experimentResourceUri, runResourceUri } from "./cortex-memories.js";
import { mcpErrorFor } from "./failures.js";
import { experimentView, stepView } from "./record-views.js";
import type { ReadOnlyStoreAccess } from "./store-access.js";

/**
 * Resources: koderz://runs/{runId} is the run summary JSON (as `koderz results export
 * --format json`), koderz://runs/{runId}/experiments/{experimentId} one experiment with
 * its final code and every step in full. Unlike the tools' answers these are not clipped:
 * a client reads a resource because it wants the whole record.
 */
export function registerResources(server: McpServer, access: ReadOnlyStoreAccess): void {
  server.registerResource(
    "run",
    new ResourceTemplate("koderz://runs/{runId}", {
      list: () =>
        read(access, (store) => ({
          resources: store
            .listRuns()
            .slice(-MAX_LISTED_RUNS)
            .reverse()
            .map((run) => ({
              uri: runResourceUri(run.runId),
              name: run.runId,
              description: `${run.kind} run, mode ${run.mode}, ${run.status}, started ${run.startTime}`,
              mimeType: JSON_TYPE,
            })),
        })),
    }),
    {
      title: "Run summary",
      description: `A run's summary JSON: config, per-problem results and totals per arm (the ${MAX_LISTED_RUNS} newest runs are listed; list_runs finds older ones)`,
      mimeType: JSON_TYPE,
    },
    (uri, variables) =>
      read(access, (store) => {
        const summary = buildRunSummary(store, resolveRun(store, variable(variables, "runId")).runId);
        return { contents: [{ uri: uri.href, mimeType: JSON_TYPE, text: JSON.stringify(summary, null, 2) }] };
      }),
  );

  server.registerResource(
    "experiment",
    new ResourceTemplate("koderz://runs/{runId}/experiments/{experimentId}", { list: undefined }),
    {
      title: "Experiment with its trajectory",
      description: "One problem in one arm of a run: the verdict, tokens and cost, the final code, and every step (prompts, answers, code, test output) in full",
      mimeType: JSON_TYPE,
    },
    (uri, variables) =>
      read(access, (store) => {
        const runId = variable(variables, "runId");
        const experimentId = variable(variables, "experimentId");
        const experiment = store.getExperiment(experimentId);
        if (!experiment || experiment.runId !== runId) {
          store.getRun(runId);
          throw new KoderzError("not_found", `run ${runId} has no experiment ${experimentId}`, "query_experiments lists a run's experiment ids");
        }
        const record = { schemaVersion: SCHEMA_VERSION, experiment: experimentView(experiment, undefined, knownFigures(store.getRun(runId))), steps: store.steps(experimentId).map((step) => stepView(step)) };
        return { contents: [{ uri: experimentResourceUri(runId, experimentId), mimeType: JSON_TYPE, text: JSON.stringify(record, null, 2) }] };
      }),
  );
}

const JSON_TYPE = "application/json";
const MAX_LISTED_RUNS = 200;

async function read<T>(access: ReadOnlyStoreAccess, query: (store: Store) => T): Promise<T> {
  try {
    return await access.use(query);
  } catch (error) {
    throw mcpErrorFor(error);
  }
}

function variable(variables: Variables, name: string): string {
  const value = variables[name];
  return decodeURIComponent(Array.isArray(value) ? value.join(",") : (value ?? ""));
}
