import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { registerSpeedTestCommand } from "../src/cli/speed-test.js";
import { KoderzError } from "../src/errors.js";
import { createBackend, measureSpeed } from "../src/llm/index.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer({ models: ["scripted-model"] });
  server.setScript(() => ({ text: "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)", usage: { input: 20, output: 25 } }));
});
afterAll(() => server.close());
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  server.reset();
});

/** Runs `koderz speed-test ...` in-process and returns what it printed on stdout. */
async function runSpeedTest(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerSpeedTestCommand(program);
  let stdout = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  await program.parseAsync(["node", "koderz", "speed-test", ...args]);
  return stdout;
}

describe("speed measurement", () => {
  it("streams each run and reports time to first token, latency and tokens per second", async () => {
    const report = await measureSpeed(createBackend(`openai-compatible:scripted-model@${server.openaiBaseUrl}`), {
      prompt: "fib",
      runs: 3,
      maxTokens: 64,
    });
    expect(report.runs).toHaveLength(3);
    expect(server.chatRequests.every((chat) => chat.stream && chat.maxTokens === 64)).toBe(true);
    // Each run differs (seed), so nothing in between can answer from a cache.
    expect(server.chatRequests.map((chat) => chat.seed)).toEqual([0, 1, 2]);
    expect(report.medianOutputTokens).toBe(25);
    expect(report.medianTimeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(report.medianLatencyMs).toBeGreaterThanOrEqual(report.medianTimeToFirstTokenMs!);
    expect(report.medianTokensPerSecond).toBeGreaterThan(0);
  });
});

describe("koderz speed-test", () => {
  it("prints JSON for each model, Ollama and OpenAI-compatible alike", async () => {
    vi.stubEnv("OLLAMA_HOST", server.ollamaHost);
    const out = await runSpeedTest([`openai-compatible:scripted-model@${server.openaiBaseUrl}`, "ollama:scripted-model", "--runs", "2", "--json"]);
    const { models: reports } = JSON.parse(out) as { models: { model: string; runs: unknown[] }[] };
    expect(reports.map((report) => report.model)).toEqual([`openai-compatible:scripted-model@${server.openaiBaseUrl}`, "ollama:scripted-model"]);
    expect(reports.every((report) => report.runs.length === 2)).toBe(true);
    expect(server.chatRequests.map((chat) => chat.format)).toEqual(["openai", "openai", "ollama", "ollama"]);
  });

  it("prints a table by default", async () => {
    const out = await runSpeedTest([`openai-compatible:scripted-model@${server.openaiBaseUrl}`, "--runs", "1"]);
    const [header, , row] = out.split("\n");
    expect(header).toMatch(/^model\s+runs\s+first token\s+latency\s+tokens\/s\s+output tokens$/);
    expect(row).toMatch(/^openai-compatible:scripted-model@\S+\s+1\s+\d+ ms\s+\d+ ms\s+[\d.]+\s+25$/);
  });

  it("checks every model before timing any", async () => {
    vi.stubEnv("MOONSHOT_API_KEY", "");
    const error = await runSpeedTest([`openai-compatible:scripted-model@${server.openaiBaseUrl}`, "kimi-k2"]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as KoderzError).message).toMatch(/^MOONSHOT_API_KEY is not set/);
    expect(server.chatRequests).toHaveLength(0);
  });

  it("rejects a bad --runs as a usage error", async () => {
    const error = await runSpeedTest(["kimi-k2", "--runs", "zero"]).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect((error as KoderzError).code).toBe("usage");
    expect((error as KoderzError).message).toMatch(/^--runs: /);
  });
});
