import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { registerSpeedTestCommand } from "../src/cli/speed-test.js";
import { createBackend, parseModelConfig } from "../src/llm/index.js";
import { disposeLlamaModels, loadLlamaModel } from "../src/llm/llama-runtime.js";
import { tinyGgufBytes, writeTinyGguf } from "./fixtures/tiny-gguf.js";
import { runInProcess } from "./fixtures/in-process-cli.js";
import { failureOf } from "./helpers/failure.js";

// The real node-llama-cpp on a tiny random-weight model the fixture writes: what it says is noise,
// so these tests check what the backend does with it (tokens counted, tools offered, grammar held),
// never what the text means. One thread: the machine is shared, and llama.cpp's spinning threads
// slow each other down when cores are busy.
let dir: string;
let modelPath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "koderz-llama-"));
  modelPath = writeTinyGguf(path.join(dir, "tiny.gguf"));
});
afterAll(async () => {
  await disposeLlamaModels();
  rmSync(dir, { recursive: true, force: true });
});

const backendFor = (options: { concurrency?: number } = {}) => createBackend(`llama:${modelPath}`, { threads: 1, contextSize: 2048, ...options });

describe("llama: backend (node-llama-cpp in process)", () => {
  it("answers a chat with text, token usage, time to first token and no cost", async () => {
    const backend = backendFor();
    await backend.preflight();
    const response = await backend.chat({
      messages: [
        { role: "system", content: "You write Python." },
        { role: "user", content: "def return True" },
      ],
      maxTokens: 12,
      temperature: 0,
      stream: true,
    });
    expect(response.model).toBe(`llama:${modelPath}`);
    expect(response.text.length).toBeGreaterThan(0);
    expect(response.usage.output).toBeGreaterThan(0);
    expect(response.usage.output).toBeLessThanOrEqual(12);
    // The prompt went through the GGUF's ChatML template: its markers are tokens of the prompt too.
    expect(response.usage.input).toBeGreaterThan(6);
    expect(response.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(response.timeToFirstTokenMs!).toBeLessThanOrEqual(response.latencyMs);
    expect(response.costUsd).toBe(0);
  });

  it("is deterministic at temperature 0, so the same request gives the same answer", async () => {
    const backend = backendFor();
    const ask = () => backend.chat({ messages: [{ role: "user", content: "print numbers" }], maxTokens: 8, temperature: 0 });
    const first = await ask();
    const second = await ask();
    expect(second.text).toBe(first.text);
  });

  it("holds an answer to the request's JSON schema through a grammar", async () => {
    const Verdict = z.object({ verdict: z.enum(["accept", "revise"]), score: z.number().int() });
    const backend = backendFor();
    const response = await backend.chat({
      messages: [{ role: "user", content: "Judge this code." }],
      responseSchema: z.toJSONSchema(Verdict),
      maxTokens: 60,
      temperature: 0,
    });
    // Random weights, yet the grammar leaves them no way out of the schema.
    expect(Verdict.parse(JSON.parse(response.text))).toBeTruthy();
  });

  it("offers tools through node-llama-cpp's function calling and carries tool results back", async () => {
    const backend = backendFor();
    const tools = [
      { name: "read_file", description: "Read a file of the repository", parameters: z.toJSONSchema(z.object({ path: z.string() })) as Record<string, unknown> },
    ];
    const response = await backend.chat({
      messages: [
        { role: "user", content: "Look at main.py" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_0", name: "read_file", arguments: { path: "main.py" } }] },
        { role: "tool", toolCallId: "call_0", content: "print(1)" },
      ],
      tools,
      maxTokens: 16,
      temperature: 0,
    });
    // The noise model may or may not call the tool; whatever it calls must be a tool it was offered, with parsed arguments.
    for (const call of response.toolCalls) {
      expect(call.name).toBe("read_file");
      expect(z.object({ path: z.string() }).safeParse(call.arguments).success).toBe(true);
    }
    expect(response.usage.input).toBeGreaterThan(10);
  });

  it("runs concurrent calls on one loaded model, a context sequence each", async () => {
    const backend = backendFor({ concurrency: 2 });
    const calls = ["def", "return", "for x in", "if True"].map((content) =>
      backend.chat({ messages: [{ role: "user", content }], maxTokens: 6, temperature: 0 }),
    );
    const responses = await Promise.all(calls);
    for (const response of responses) expect(response.usage.output).toBeGreaterThan(0);
    // The same prompt alone gives the same answer as it did among the concurrent ones: the sequences do not mix.
    const alone = await backend.chat({ messages: [{ role: "user", content: "for x in" }], maxTokens: 6, temperature: 0 });
    expect(alone.text).toBe(responses[2]!.text);
  });

  it("refuses a model larger than free memory before loading it", async () => {
    // A GGUF whose header declares a 64 GiB tensor: the check reads only the header, so the data need not exist.
    const huge = path.join(dir, "huge.gguf");
    writeFileSync(huge, tinyGgufBytes({ declaredExtraTensorBytes: 64 * 1024 ** 3 }));
    const error = await failureOf(createBackend(`llama:${huge}`, { threads: 1, contextSize: 512 }).preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/needs about \d+\.\d GB of memory .* but only \d+\.\d GB is free/);
  });

  it("evaluates on the number of threads it was given", async () => {
    const loaded = await loadLlamaModel(modelPath, { threads: 1, contextSize: 256, sequences: 1 });
    expect(loaded.context.idealThreads).toBe(1);
  });

  it("says which file is missing", async () => {
    const error = await failureOf(createBackend(`llama:${path.join(dir, "absent.gguf")}`).preflight());
    expect(error.code).toBe("not_found");
    expect(error.message).toContain("absent.gguf");
  });

  it("reads threads and batch size for a llama: model from koderz.config.json", async () => {
    const config = parseModelConfig({ models: { "tiny-coder": { provider: "llama", model: modelPath, threads: 1, batchSize: 64, contextLength: 512 } } }, "koderz.config.json");
    const backend = createBackend("tiny-coder", { config });
    const response = await backend.chat({ messages: [{ role: "user", content: "def" }], maxTokens: 4, temperature: 0 });
    expect(response.model).toBe("tiny-coder");
    expect(response.usage.output).toBeGreaterThan(0);
  });

  it("speed-test reports pp and tg tokens/s and load time for each configuration", async () => {
    const result = await runInProcess(registerSpeedTestCommand, [
      "speed-test", `llama:${modelPath}`, "--threads", "1", "--context-size", "512", "--batch-size", "32,128", "--pp", "64", "--tg", "16", "--json",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const Bench = z.object({
      model: z.string(), threadsUsed: z.number(), contextSize: z.number(), batchSize: z.number(), loadMs: z.number().positive(),
      promptTokens: z.number(), promptTokensPerSecond: z.number().positive(), generatedTokens: z.number(), generationTokensPerSecond: z.number().positive(),
    });
    const parsed = z.object({ models: z.array(z.unknown()), llama: z.array(Bench) }).parse(JSON.parse(result.stdout));
    expect(parsed.llama.map((row) => [row.threadsUsed, row.contextSize, row.batchSize])).toEqual([[1, 512, 32], [1, 512, 128]]);
    for (const row of parsed.llama) expect([row.promptTokens, row.generatedTokens]).toEqual([64, 16]);
  });
});
