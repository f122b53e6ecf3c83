import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createBackend } from "../src/llm/index.js";
import { disposeLlamaModels, loadLlamaModel } from "../src/llm/llama-runtime.js";
import { koderz, koderzBin } from "./fixtures/koderz-cli.js";
import { tinyGgufBytes, writeTinyGguf } from "./fixtures/tiny-gguf.js";
import { failureOf } from "./helpers/failure.js";

// The in-process model under odd input: a model that ends every answer at once, a process
// limited to one core, a GGUF file cut short. The real node-llama-cpp on tiny random-weight
// models the fixture writes (their text is noise; only counts and errors are checked).
let dir: string;
let modelPath: string;
let endsAtOncePath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "koderz-llama-faults-"));
  modelPath = writeTinyGguf(path.join(dir, "tiny.gguf"));
  endsAtOncePath = writeTinyGguf(path.join(dir, "ends-at-once.gguf"), { endsAtOnce: true });
});
afterAll(async () => {
  await disposeLlamaModels();
  rmSync(dir, { recursive: true, force: true });
});

const Bench = z.object({ threadsUsed: z.number(), generatedTokens: z.number(), generationTokensPerSecond: z.number() });
const SpeedJson = z.object({ llama: z.array(Bench) });

describe("the llama: backend under odd input", () => {
  it("speed-test's tgN generates exactly N tokens even from a model that answers its end token at once", async () => {
    // The fixture does what it claims: a chat ends after at most one token.
    const chat = await createBackend(`llama:${endsAtOncePath}`, { threads: 1, contextSize: 256 }).chat({ messages: [{ role: "user", content: "def" }], maxTokens: 16, temperature: 0 });
    expect(chat.usage.output).toBeLessThanOrEqual(1);

    const result = await koderz(["speed-test", `llama:${endsAtOncePath}`, "--threads", "1", "--context-size", "256", "--pp", "16", "--tg", "24", "--json"], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    const [bench] = SpeedJson.parse(JSON.parse(result.stdout)).llama;
    expect(bench!.generatedTokens).toBe(24);
    expect(bench!.generationTokensPerSecond).toBeGreaterThan(0);
  }, 120_000);

  it("evaluates on the cores this process may use when no thread count is given, and speed-test says how many", async () => {
    const loaded = await loadLlamaModel(modelPath, { contextSize: 256, sequences: 1 });
    expect(loaded.context.idealThreads).toBe(availableParallelism());
    await disposeLlamaModels();

    // Pinned to one core, the default is one thread.
    const pinned = await execa("taskset", ["-c", "0", process.execPath, koderzBin, "speed-test", `llama:${modelPath}`, "--context-size", "256", "--pp", "16", "--tg", "8", "--json"], {
      cwd: dir,
      reject: false,
    });
    expect(pinned.exitCode, pinned.stderr).toBe(0);
    expect(SpeedJson.parse(JSON.parse(pinned.stdout)).llama[0]!.threadsUsed).toBe(1);
    expect(pinned.stderr).toMatch(/threads 1 \(the cores this process may use\)/);
  }, 120_000);

  it("folds llama.cpp's reason for refusing a cut-short GGUF into koderz's one error, and prints no native line", async () => {
    const whole = tinyGgufBytes();
    const cut = path.join(dir, "cut.gguf");
    writeFileSync(cut, whole.subarray(0, whole.length - 4096));
    const error = await failureOf(createBackend(`llama:${cut}`, { threads: 1, contextSize: 256 }).preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/not within the file bounds/);

    const cli = await koderz(["speed-test", `llama:${cut}`, "--threads", "1", "--context-size", "256", "--pp", "16", "--tg", "8"], { cwd: dir });
    expect(cli.exitCode).toBe(1);
    const reasonLines = cli.stderr.split("\n").filter((line) => /not within the file bounds/.test(line));
    // One line: koderz's error, with the reason in it; llama.cpp's own lines are not printed beside it.
    expect(reasonLines, cli.stderr).toHaveLength(1);
    expect(reasonLines[0]).toMatch(/could not load/);
    expect(cli.stderr).not.toMatch(/^llama_model_load|^gguf_init/m);
  }, 120_000);
});
