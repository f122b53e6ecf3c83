import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { koderzBin, spawnKoderz } from "./fixtures/koderz-cli.js";
import { makeRun, recordArm, tempStore } from "./fixtures/store-fixtures.js";

// `koderz mcp` over stdio (the real binary, driven by the SDK's client and by hand) on a store
// written by the store fixtures: two runs whose local models have provider prefixes, as koderz
// names them, while the seed's assistants ask by the name the user knows.
const OLLAMA_RUN = "bench_11111111_20250101_100000";
const ROUTER_RUN = "bench_22222222_20250102_100000";

let fixture: ReturnType<typeof tempStore>;
let client: Client;

beforeAll(async () => {
  fixture = tempStore();
  const { store } = fixture;
  store.createRun(makeRun({ runId: OLLAMA_RUN, mode: "comparative", config: { localModel: "ollama:qwen2.5-coder:32b", problemRange: [0, 2] } }));
  recordArm(store, OLLAMA_RUN, "zero-shot", [true, false]);
  recordArm(store, OLLAMA_RUN, "iterative", [true, true]);
  store.createRun(makeRun({ runId: ROUTER_RUN, mode: "zero-shot", startTime: "2025-01-02T10:00:00.000Z", config: { localModel: "openrouter:qwen/qwen-2.5-coder-32b-instruct", problemRange: [0, 2] } }));
  recordArm(store, ROUTER_RUN, "zero-shot", [false, true]);
  client = new Client({ name: "koderz-tests", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [koderzBin, "mcp", "--db", fixture.dbPath], env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" }, stderr: "pipe" }),
  );
}, 60_000);

afterAll(async () => {
  await client?.close();
  fixture?.cleanup();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a tool's JSON, read as an assistant reads it
type Json = any;

async function memories(tags: string[]): Promise<Json[]> {
  const result = (await client.callTool({ name: "export_memories", arguments: { tags } })) as CallToolResult;
  expect(result.isError ?? false).toBe(false);
  return (result.structuredContent as Json).memories;
}

describe("koderz mcp: the seed's Cortex queries and odd requests", () => {
  it("answers the seed's five tag queries as written, by the model name the user knows", async () => {
    expect((await memories(["benchmark_run"])).map((m) => m.tags[1])).toEqual([OLLAMA_RUN, ROUTER_RUN]);
    // The model as the seed's user named it, without koderz's provider prefix, and with it.
    const byName = await memories(["benchmark_run", "qwen2.5-coder:32b"]);
    expect(byName.map((m) => m.tags)).toEqual([["benchmark_run", OLLAMA_RUN, "comparative", "ollama:qwen2.5-coder:32b", "qwen2.5-coder:32b"]]);
    expect((await memories(["benchmark_run", "ollama:qwen2.5-coder:32b"])).map((m) => m.tags[1])).toEqual([OLLAMA_RUN]);
    expect((await memories(["benchmark_run", "qwen/qwen-2.5-coder-32b-instruct"])).map((m) => m.tags[1])).toEqual([ROUTER_RUN]);
    expect((await memories(["benchmark_run", "comparative"])).map((m) => m.tags[1])).toEqual([OLLAMA_RUN]);
    // Experiments by run and by problem, tagged exactly as the seed tagged them.
    const ofRun = await memories(["result", OLLAMA_RUN]);
    expect(ofRun).toHaveLength(4);
    expect(ofRun.every((m) => m.tags.length === 5 && m.tags[0] === "result" && m.tags[3] === "completed" && m.tags[4] === OLLAMA_RUN)).toBe(true);
    expect((await memories(["result", "HumanEval/1"])).map((m) => m.tags[4])).toEqual([OLLAMA_RUN, OLLAMA_RUN, ROUTER_RUN]);
    // list_runs takes the same tags as filters.
    const listed = (await client.callTool({ name: "list_runs", arguments: { tags: ["qwen2.5-coder:32b"] } })) as CallToolResult;
    expect((listed.structuredContent as Json).runs.map((r: Json) => r.runId)).toEqual([OLLAMA_RUN]);
  });

  it("says a resource error once, with one prefix", async () => {
    const error = await client.readResource({ uri: "koderz://runs/bench_00000000_20200101_000000" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32002);
    expect((error as McpError).message).toMatch(/^MCP error -32002: not_found: no run with id bench_00000000_20200101_000000/);
    expect((error as McpError).message.match(/MCP error/g)).toHaveLength(1);
  });

  it("answers a malformed stdio line with a JSON-RPC error, and keeps serving", async () => {
    const child = spawnKoderz(["mcp", "--db", fixture.dbPath], { cwd: fixture.dir });
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const replies = async (count: number): Promise<Json[]> => {
      for (let i = 0; i < 300 && stdout.split("\n").filter(Boolean).length < count; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      return stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    };
    child.stdin?.write("this is not json\n");
    child.stdin?.write('{"jsonrpc":"2.0","id":7,"method":42}\n');
    child.stdin?.write('{"jsonrpc":"2.0","id":8,"method":"ping"}\n');
    const [notJson, notRpc, ping] = await replies(3);
    expect(notJson).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
    expect(notRpc).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: -32600 } });
    expect(ping).toEqual({ jsonrpc: "2.0", id: 8, result: {} });
    child.stdin?.end();
    const exited = await child;
    expect(exited.exitCode, exited.stderr).toBe(0);
  }, 60_000);
});
