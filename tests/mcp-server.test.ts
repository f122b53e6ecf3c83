import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError, type CallToolResult, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerMcp } from "../src/cli/mcp.js";
import { openStore, type ExperimentExportRow } from "../src/store/index.js";
import { loadSuite, selectRange } from "../tasks/load.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { koderz, koderzBin, spawnKoderz } from "./fixtures/koderz-cli.js";
import type { ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { runInProcess } from "./fixtures/in-process-cli.js";
import { runCli } from "./fixtures/store-cli.js";
import { expectCamelCase, expectContractDocument, expectValidDocument } from "./helpers/json-contract.js";
import { benchmarkRunIdFrom, startTeamWorkDir, TEAM_ENV } from "./fixtures/team-workdir.js";

// `koderz mcp` driven by the SDK's own client, over stdio and over streamable HTTP, against a
// store filled by two real benchmark runs (the real binary, the Docker sandbox, the scripted
// model server playing the coding team). Every tool's numbers are checked against what
// `koderz results` and `koderz compare` print for the same store.
// The Coder's first attempt at HumanEval/1 is wrong: zero-shot fails it, iterative fixes it.
const WRONG_FIRST = "HumanEval/1";
const LOCAL_MODEL = "ollama:qwen3-coder:30b";

let modelServer: ScriptedModelServer;
let workDir: string;
let db: string;
let comparative: string;
let zeroShot: string;
let client: Client;

beforeAll(async () => {
  const tasks = selectRange(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }), 0, 3);
  ({ server: modelServer, workDir } = await startTeamWorkDir(tasks, { wrongFirst: new Set([WRONG_FIRST]), tempPrefix: "koderz-mcp-" }));
  db = path.join(workDir, "results", "koderz.db");
  comparative = await benchmark("comparative");
  zeroShot = await benchmark("zero-shot");
  expect((await cli(["results", "tag", zeroShot, "nightly"])).exitCode).toBe(0);
  client = await connectStdio(db);
});

afterAll(async () => {
  await client?.close();
  await modelServer?.close();
});

async function benchmark(mode: string): Promise<string> {
  const result = await koderz(["benchmark", "0", "3", "--mode", mode], { cwd: workDir, env: TEAM_ENV });
  expect(result.exitCode, result.stderr).toBe(0);
  return benchmarkRunIdFrom(result.stderr);
}

/** `koderz results ...` / `koderz compare ...` on the same store, in-process (the binary's start-up is slow on a busy machine). */
function cli(args: string[]) {
  return runCli([...args, "--db", db]);
}

/** What a koderz command prints as JSON (or JSON lines) on stdout. */
async function cliJson(args: string[]): Promise<unknown> {
  const result = await cli(args);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

async function cliJsonl(args: string[]): Promise<ExperimentExportRow[]> {
  const result = await cli(args);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ExperimentExportRow);
}

async function connectStdio(store: string): Promise<Client> {
  const connected = new Client({ name: "koderz-tests", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [koderzBin, "mcp", "--db", store],
    cwd: workDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
    stderr: "pipe",
  });
  await connected.connect(transport);
  return connected;
}

// A tool answer is loosely typed JSON; the tests read it like an assistant would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type Json = any;

async function call(name: string, args: Record<string, unknown> = {}, on: Client = client): Promise<Json> {
  const result = (await on.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((part) => (part.type === "text" ? part.text : "")).join("");
  expect(result.isError ?? false, text).toBe(false);
  // Clients that ignore structured content read the same JSON as text.
  expect(JSON.parse(text)).toEqual(result.structuredContent);
  return result.structuredContent;
}

async function callFailing(name: string, args: Record<string, unknown> = {}, on: Client = client): Promise<string> {
  const result = (await on.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError).toBe(true);
  return result.content.map((part) => (part.type === "text" ? part.text : "")).join("");
}

/** Follows nextCursor to the end and returns every page's items. */
async function allPages(name: string, args: Record<string, unknown>, key: string): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call(name, { ...args, ...(cursor ? { cursor } : {}) });
    items.push(...page[key]);
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor && pages < 50);
  return { items, pages };
}

describe("koderz mcp over stdio", () => {
  it("offers the six tools and the two resource templates", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["compare_runs", "export_memories", "get_run", "get_trajectory", "list_runs", "query_experiments"]);
    for (const tool of tools) expect(tool.inputSchema.type).toBe("object");
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(["koderz://runs/{runId}", "koderz://runs/{runId}/experiments/{experimentId}"]);
  });

  it("list_runs gives the listings of `koderz results list --json`, by the same filters", async () => {
    const listed = ((await cliJson(["results", "list", "--json"])) as Json).runs as Json[];
    expect(listed.map((r) => r.runId)).toEqual([comparative, zeroShot]);
    expect(await call("list_runs")).toEqual({ schemaVersion: 1, runs: listed, total: 2, nextCursor: null });

    expect((await call("list_runs", { tags: ["nightly"] })).runs).toEqual(((await cliJson(["results", "list", "--json", "--tags", "nightly"])) as Json).runs);
    expect((await call("list_runs", { model: LOCAL_MODEL })).runs).toEqual(((await cliJson(["results", "list", "--json", "--model", LOCAL_MODEL])) as Json).runs);
    expect((await call("list_runs", { problemId: "HumanEval/2", kind: "benchmark" })).runs).toEqual(listed);
    expect((await call("list_runs", { mode: "zero-shot" })).runs).toEqual(listed.filter((r) => r.mode === "zero-shot"));
    expect((await call("list_runs", { stage: "baseline" })).runs).toEqual([]);
    // The seed's Cortex tags find runs too.
    expect((await call("list_runs", { tags: ["benchmark_run", comparative] })).runs.map((r: Json) => r.runId)).toEqual([comparative]);
    expect((await call("list_runs", { tags: [LOCAL_MODEL, "zero-shot"] })).runs.map((r: Json) => r.runId)).toEqual([comparative, zeroShot]);

    const second = listed[1].startTime as string;
    expect((await call("list_runs", { since: second })).runs.map((r: Json) => r.runId)).toEqual([zeroShot]);
    expect((await call("list_runs", { since: "2999-01-01" })).runs).toEqual([]);
  });

  it("pages list_runs with a cursor that only pages the query it came from", async () => {
    const first = await call("list_runs", { limit: 1 });
    expect(first.runs.map((r: Json) => r.runId)).toEqual([comparative]);
    expect(first.total).toBe(2);
    const second = await call("list_runs", { limit: 1, cursor: first.nextCursor });
    expect(second.runs.map((r: Json) => r.runId)).toEqual([zeroShot]);
    expect(second.nextCursor).toBeNull();
    expect(await callFailing("list_runs", { mode: "zero-shot", cursor: first.nextCursor })).toContain("the cursor belongs to a query with other filters");
    expect(await callFailing("list_runs", { cursor: "not-a-cursor" })).toContain("is not a cursor this server gave out");
  });

  it("get_run is the summary of `koderz results export --format json`, its results paged by problem", async () => {
    for (const runId of [comparative, zeroShot]) {
      const exported = await cliJson(["results", "export", runId, "--format", "json"]);
      expect(await call("get_run", { runId: runId })).toEqual({ schemaVersion: 1, summary: exported, problemsTotal: 3, nextCursor: null });
    }
    const exported = (await cliJson(["results", "export", comparative, "--format", "json"])) as Json;
    const first = await call("get_run", { runId: comparative, limit: 2 });
    expect(first.summary.iterative.summary).toEqual(exported.iterative.summary);
    expect(first.summary.comparison).toEqual(exported.comparison);
    expect(first.summary.zeroShot.results).toEqual(exported.zeroShot.results.slice(0, 2));
    expect(first.summary.iterative.results).toEqual(exported.iterative.results.slice(0, 2));
    const rest = await call("get_run", { runId: comparative, limit: 2, cursor: first.nextCursor });
    expect(rest.summary.iterative.results).toEqual(exported.iterative.results.slice(2));
    expect(rest.nextCursor).toBeNull();
  });

  it("query_experiments gives the rows of `koderz results export --format jsonl`, by tags, problem, success and arm", async () => {
    const comparativeRows = await cliJsonl(["results", "export", comparative, "--format", "jsonl"]);
    const zeroShotRows = await cliJsonl(["results", "export", zeroShot, "--format", "jsonl"]);
    const all = [...comparativeRows, ...zeroShotRows];
    expect(comparativeRows).toHaveLength(6);

    expect(await call("query_experiments", { runId: comparative })).toEqual({ schemaVersion: 1, experiments: comparativeRows, total: 6, nextCursor: null });
    expect((await call("query_experiments")).experiments).toEqual(all);

    const failed = (await call("query_experiments", { success: false })).experiments;
    expect(failed).toEqual(all.filter((row) => !row.success));
    expect(failed.map((row: Json) => [row.runId, row.arm, row.problemId])).toEqual([
      [comparative, "zero-shot", WRONG_FIRST],
      [zeroShot, "zero-shot", WRONG_FIRST],
    ]);

    expect((await call("query_experiments", { problemId: WRONG_FIRST, arm: "iterative" })).experiments).toEqual(
      comparativeRows.filter((row) => row.problemId === WRONG_FIRST && row.arm === "iterative"),
    );
    // Tags with AND semantics: store tags, bare tags matching key:value, and the seed's Cortex tags.
    expect((await call("query_experiments", { tags: ["arm:iterative", `problem:${WRONG_FIRST}`] })).experiments).toEqual(
      comparativeRows.filter((row) => row.arm === "iterative" && row.problemId === WRONG_FIRST),
    );
    expect((await call("query_experiments", { tags: ["iterative"] })).total).toBe(3);
    expect((await call("query_experiments", { tags: ["result", WRONG_FIRST, "completed", zeroShot] })).experiments).toEqual(
      zeroShotRows.filter((row) => row.problemId === WRONG_FIRST),
    );

    const paged = await allPages("query_experiments", { limit: 4 }, "experiments");
    expect(paged.pages).toBe(3);
    expect(paged.items).toEqual(all);
  });

  it("get_trajectory gives an experiment's steps in order, with tokens that add up to the experiment's", async () => {
    const [fixed] = (await call("query_experiments", { runId: comparative, arm: "iterative", problemId: WRONG_FIRST })).experiments;
    const trajectory = await call("get_trajectory", { experimentId: fixed.experimentId });
    expect(trajectory.experiment).toMatchObject(fixed);
    expect(trajectory.experiment.finalCode).toContain("def ");
    expect(trajectory.steps.map((s: Json) => s.agent)).toEqual(["Planner", "Coder", "Debugger"]);
    expect(trajectory.steps.map((s: Json) => s.model)).toEqual(["kimi-k2", LOCAL_MODEL, LOCAL_MODEL]);
    expect(trajectory.steps[1].visiblePassFraction).toBeLessThan(1);
    expect(trajectory.steps[2].visiblePassFraction).toBe(1);
    expect(trajectory.steps.reduce((n: number, s: Json) => n + s.inputTokens, 0)).toBe(fixed.inputTokens);
    expect(trajectory.steps.reduce((n: number, s: Json) => n + s.outputTokens, 0)).toBe(fixed.outputTokens);
    expect(trajectory.totalSteps).toBe(3);

    const clipped = await call("get_trajectory", { experimentId: fixed.experimentId, maxFieldChars: 200, limit: 2 });
    expect(clipped.steps).toHaveLength(2);
    expect(clipped.steps[1].prompt).toMatch(/\[clipped: \d+ more characters\]$/);
    expect(clipped.steps[1].prompt.startsWith(trajectory.steps[1].prompt.slice(0, 200))).toBe(true);
    const last = await call("get_trajectory", { experimentId: fixed.experimentId, maxFieldChars: 200, limit: 2, cursor: clipped.nextCursor });
    expect(last.steps.map((s: Json) => s.agent)).toEqual(["Debugger"]);
  });

  it("compare_runs gives the numbers of `koderz compare --json`", async () => {
    const pairs = [
      [`${comparative}:zero-shot`, `${comparative}:iterative`],
      [zeroShot, `${comparative}:iterative`],
    ];
    for (const runs of pairs) {
      const printed = (await cliJson(["compare", ...runs, "--json"])) as Json;
      expect(await call("compare_runs", { runs })).toEqual(printed);
      expect(printed.pairs[0].wins).toBe(1);
    }
    const sameArm = await cliJson(["compare", zeroShot, comparative, "--arm", "zero-shot", "--json"]);
    expect(await call("compare_runs", { runs: [zeroShot, comparative], arm: "zero-shot" })).toEqual(sameArm);
    // The gate fails (zero-shot solves 2 of 3), so compare exits 1 and still prints its JSON.
    const gatedRun = await cli(["compare", zeroShot, `${comparative}:iterative`, "--json", "--fail-below", "0.9", "--fail-on-regression"]);
    expect(gatedRun.exitCode, gatedRun.stderr).toBe(1);
    const gated = JSON.parse(gatedRun.stdout) as Json;
    expect(await call("compare_runs", { runs: [zeroShot, `${comparative}:iterative`], failBelow: 0.9, failOnRegression: true })).toEqual(gated);
    expect(gated.gates.failures).toHaveLength(1);
  });

  it("export_memories answers with the seed's Cortex tags", async () => {
    const listed = ((await cliJson(["results", "list", "--json"])) as Json).runs as Json[];
    const runMemories = (await call("export_memories", { tags: ["benchmark_run"] })).memories;
    expect(runMemories.map((m: Json) => m.tags)).toEqual([
      ["benchmark_run", comparative, "comparative", LOCAL_MODEL, "qwen3-coder:30b"],
      ["benchmark_run", zeroShot, "zero-shot", LOCAL_MODEL, "qwen3-coder:30b"],
    ]);
    expect(runMemories.map((m: Json) => m.metadata)).toEqual(listed);
    expect(runMemories[0].uri).toBe(`koderz://runs/${comparative}`);
    expect(runMemories[0].content).toContain("iterative: 3/3 solved");
    expect(runMemories[0].content).toContain("zero-shot: 2/3 solved");

    const rows = await cliJsonl(["results", "export", comparative, "--format", "jsonl"]);
    const ofRun = (await call("export_memories", { tags: [comparative] })).memories;
    expect(ofRun).toHaveLength(1 + rows.length);
    expect(ofRun.slice(1).map((m: Json) => m.metadata)).toEqual(rows);

    const results = (await call("export_memories", { tags: ["result", WRONG_FIRST, comparative] })).memories;
    const wanted = rows.filter((row) => row.problemId === WRONG_FIRST);
    expect(results.map((m: Json) => m.tags)).toEqual(wanted.map((row) => ["result", row.experimentId, WRONG_FIRST, "completed", comparative]));
    expect(results.map((m: Json) => m.content.includes("not solved"))).toEqual(wanted.map((row) => !row.success));

    const everything = await allPages("export_memories", { limit: 5 }, "memories");
    expect(everything.items).toHaveLength(2 + 6 + 3);
  });

  it("reads runs and experiments as resources", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([`koderz://runs/${zeroShot}`, `koderz://runs/${comparative}`]);

    const run = await client.readResource({ uri: `koderz://runs/${comparative}` });
    expect(resourceJson(run)).toEqual(await cliJson(["results", "export", comparative, "--format", "json"]));

    const [fixed] = (await call("query_experiments", { runId: comparative, arm: "iterative", problemId: WRONG_FIRST })).experiments;
    const trajectory = await call("get_trajectory", { experimentId: fixed.experimentId });
    const experiment = await client.readResource({ uri: `koderz://runs/${comparative}/experiments/${fixed.experimentId}` });
    expect(resourceJson(experiment)).toEqual({ schemaVersion: 1, experiment: trajectory.experiment, steps: trajectory.steps });
  });

  it("takes camelCase arguments, still accepts the former snake_case names, and answers in the JSON contract", async () => {
    const { tools } = await client.listTools();
    for (const tool of tools) {
      const names = Object.keys(tool.inputSchema.properties ?? {});
      const snake = names.filter((name) => name.includes("_"));
      // Each former name sits beside its camelCase one, marked as such.
      for (const name of snake) expect(names).toContain(name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()));
    }
    const summary = await call("get_run", { runId: comparative });
    expect(await call("get_run", { run_id: comparative })).toEqual(summary);
    expectContractDocument("run-summary", summary.summary);
    expect(summary).toMatchObject({ schemaVersion: 1 });
    const rows = await call("query_experiments", { runId: comparative, problemId: WRONG_FIRST });
    expect(await call("query_experiments", { run_id: comparative, problem_id: WRONG_FIRST })).toEqual(rows);
    for (const row of rows.experiments) expectValidDocument("experiment-row", row);
    expectCamelCase(rows);
    const trajectory = await call("get_trajectory", { experimentId: rows.experiments[0].experimentId, maxFieldChars: 300 });
    expect(await call("get_trajectory", { experiment_id: rows.experiments[0].experimentId, max_field_chars: 300 })).toEqual(trajectory);
    expectCamelCase(trajectory);
    const compared = await call("compare_runs", { runs: [comparative], failBelow: 0.9 });
    expect(await call("compare_runs", { runs: [comparative], fail_below: 0.9 })).toEqual(compared);
    expectContractDocument("compare", compared);
    const listed = await call("list_runs", { problemId: WRONG_FIRST });
    expect(await call("list_runs", { problem_id: WRONG_FIRST })).toEqual(listed);
    expectCamelCase(listed);
    // A missing id, or both names disagreeing, is an error that says what to give.
    expect(await callFailing("get_run", {})).toContain("runId is required");
    expect(await callFailing("get_run", { runId: comparative, run_id: "other" })).toContain("give runId only");
  });

  it("answers unknown ids and bad filters with MCP errors, and keeps serving", async () => {
    expect(await callFailing("get_run", { runId: "bench_00000000_20200101_000000" })).toContain("not_found: no run with id bench_00000000_20200101_000000");
    expect(await callFailing("get_trajectory", { experimentId: "exp_0000000000000000" })).toContain("no experiment with id exp_0000000000000000");
    // One run with several arms compares its arms, as `koderz compare RUN` does.
    expect(await call("compare_runs", { runs: [comparative] })).toEqual(await cliJson(["compare", comparative, "--json"]));
    expect(await callFailing("query_experiments", { runId: "nope" })).toContain("no run with id nope");
    expect(await callFailing("list_runs", { kind: "nope" })).toMatch(/Input validation error[\s\S]*kind/);
    expect(await callFailing("list_runs", { since: "yesterday" })).toContain("an ISO 8601 date or time");
    expect(await callFailing("get_trajectory", { experimentId: "x", maxFieldChars: 10 })).toContain("Input validation error");

    await expect(client.readResource({ uri: "koderz://runs/bench_00000000_20200101_000000" })).rejects.toSatisfy(
      (error: unknown) => error instanceof McpError && error.code === -32002 && error.message.includes("no run with id"),
    );
    await expect(client.readResource({ uri: `koderz://runs/${zeroShot}/experiments/exp_0000000000000000` })).rejects.toThrow(/has no experiment/);

    expect((await call("list_runs")).total).toBe(2);
  });
});

describe("koderz mcp without a store", () => {
  it("answers with a not_found error naming the file, and serves the store once it exists", async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), "koderz-mcp-missing-")), "koderz.db");
    const lonely = await connectStdio(missing);
    try {
      const text = await callFailing("list_runs", {}, lonely);
      expect(text).toContain(`not_found: no koderz store at ${missing}`);
      expect(text).toContain("fix: run `koderz benchmark` first");
      await expect(lonely.readResource({ uri: `koderz://runs/${zeroShot}` })).rejects.toThrow(/no koderz store/);

      copyFileSync(db, missing);
      expect((await call("list_runs", {}, lonely)).runs.map((r: Json) => r.runId)).toEqual([comparative, zeroShot]);
    } finally {
      await lonely.close();
    }
  });

  it("opens the store read-only: a write through it fails", () => {
    const store = openStore({ path: db, readOnly: true });
    try {
      expect(() => store.addTags(zeroShot, ["written-by-mcp"])).toThrow(/read-?only/i);
      expect(store.getRun(zeroShot).tags).not.toContain("written-by-mcp");
    } finally {
      store.close();
    }
  });
});

describe("koderz mcp --http", () => {
  it("serves the same answers over streamable HTTP on 127.0.0.1, and stops on SIGTERM", async () => {
    const child = spawnKoderz(["mcp", "--http", "0", "--db", db], { cwd: workDir });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const url = await waitFor(() => /(http:\/\/\S+\/mcp)/.exec(stderr)?.[1], () => stderr);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const http = new Client({ name: "koderz-tests-http", version: "1.0.0" });
    await http.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      expect(await call("list_runs", {}, http)).toEqual(await call("list_runs"));
      expect(await call("compare_runs", { runs: [zeroShot, `${comparative}:iterative`] }, http)).toEqual(await call("compare_runs", { runs: [zeroShot, `${comparative}:iterative`] }));
      expect(await callFailing("get_run", { runId: "nope" }, http)).toContain("no run with id nope");
    } finally {
      await http.close();
    }

    // A page elsewhere that reaches the port by another host name is refused.
    const foreign = await fetch(url, { method: "POST", headers: { origin: "http://evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(foreign.status).toBe(403);

    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toContain("koderz mcp: stopped");
  });

  it("refuses a bad port as a usage error", async () => {
    const port = await runInProcess(registerMcp, ["mcp", "--http", "web"]);
    expect(port.exitCode).toBe(2);
    expect(port.stderr).toContain("--http: a port number");
  });
});

/** The JSON text of a resource read. */
function resourceJson(read: ReadResourceResult): Json {
  const [content] = read.contents;
  expect(content && "text" in content).toBe(true);
  expect(content!.mimeType).toBe("application/json");
  return JSON.parse((content as { text: string }).text);
}

async function waitFor<T>(probe: () => T | undefined, context: () => string, attempts = 300): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting\n${context()}`);
}
