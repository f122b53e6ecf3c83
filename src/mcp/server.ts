import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerResources } from "./resources.js";
import type { ReadOnlyStoreAccess } from "./store-access.js";
import { registerTools } from "./tools.js";

/** What a client is told about the server when it connects, so an assistant knows where to start. */
const INSTRUCTIONS =
  "koderz's store of benchmark runs, read-only. Start with list_runs (filters: tags, model, mode, kind, stage, problemId, since), " +
  "then get_run for a run's summary, query_experiments for per-problem results, get_trajectory for the steps of one experiment, " +
  "and compare_runs for wins, losses and significance between runs. export_memories answers in the original koderz's Cortex " +
  'memory format and tags: runs ["benchmark_run", run_id, mode, local_model (the koderz model id, e.g. ollama:qwen2.5-coder:32b), and the model name without its provider (qwen2.5-coder:32b)], experiments ["result", experiment_id, problem_id, "completed", run_id]. ' +
  "Long answers are paged: pass nextCursor back as cursor. Arguments are camelCase (runId, problemId, experimentId, maxFieldChars, failBelow, failOnRegression); the former snake_case names are still accepted.";

/** One MCP server over the store: the tools and the resources. The transport is the caller's choice. */
export function createMcpServer(access: ReadOnlyStoreAccess, version: string): McpServer {
  const server = new McpServer({ name: "koderz", version }, { instructions: INSTRUCTIONS });
  registerTools(server, access);
  registerResources(server, access);
  return server;
}
