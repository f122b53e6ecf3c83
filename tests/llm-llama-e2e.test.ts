import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ModelOptions } from "../src/cli/benchmark-options.js";
import { withLlamaThreads } from "../src/cli/benchmark-run.js";
import { chooseDefaultModels, EMBEDDED_DEFAULT_MODEL, parseModelConfig, resolveModel } from "../src/llm/index.js";
import { parseGgufSource } from "../src/llm/gguf-cache.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { writeTinyGguf } from "./fixtures/tiny-gguf.js";
import { requireDockerSandbox } from "./helpers/docker.js";

// The whole pipeline in process on the tiny random-weight GGUF: its answers are noise, so the
// verdict is a failure, and the run must say so honestly (0 solved), not crash or hang.
let workDir: string;
let modelPath: string;
let closedPort: number;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), "koderz-llama-e2e-"));
  modelPath = writeTinyGguf(path.join(workDir, "tiny.gguf"));
  // A port nothing listens on: "no Ollama here" and "no internet" for these runs.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closedPort = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const SummarySchema = z.object({
  config: z.object({ models: z.object({ local: z.string() }) }),
  results: z.array(z.object({ problemId: z.string(), success: z.boolean(), outputTokens: z.number() })),
  summary: z.object({ successes: z.number(), totalProblems: z.number() }),
});

describe("koderz run on an in-process llama: model", () => {
  it("runs HumanEval/0 through the whole pipeline on the tiny GGUF and reports its failure", async () => {
    await requireDockerSandbox();
    const result = await koderz(
      ["run", "--problem-id", "HumanEval/0", "--local-model", `llama:${modelPath}`, "--db", path.join(workDir, "koderz.db"), "--results-dir", path.join(workDir, "results")],
      { cwd: workDir, env: { KODERZ_LLAMA_THREADS: "1", OLLAMA_HOST: `http://127.0.0.1:${closedPort}` } },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    // No Moonshot key: the frontier agents use the same model, and the user is told so in one line.
    expect(result.stderr).toContain(`no MOONSHOT_API_KEY: the frontier agents (Planner, Reviewer, checkpoints) use llama:${modelPath} too`);
    // Every step of the trace ran on the in-process model.
    const steps = [...result.stderr.matchAll(/step \d+: (\w+) \(([^)]+)\)/g)];
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const step of steps) expect(step[2]).toBe(`llama:${modelPath}`);
    const files = readdirSync(path.join(workDir, "results")).filter((file) => file.endsWith(".json"));
    const summary = SummarySchema.parse(JSON.parse(readFileSync(path.join(workDir, "results", files[0]!), "utf8")));
    expect(summary.config.models.local).toBe(`llama:${modelPath}`);
    expect(summary.results[0]).toMatchObject({ problemId: "HumanEval/0", success: false });
    expect(summary.results[0]!.outputTokens).toBeGreaterThan(0);
    expect(summary.summary).toMatchObject({ successes: 0, totalProblems: 1 });
  }, 600_000);

  it("with no model named, no Ollama and no key, picks the embedded default and, offline, says where to put it", async () => {
    const cache = path.join(workDir, "cache");
    const env = { OLLAMA_HOST: `http://127.0.0.1:${closedPort}`, HF_ENDPOINT: `http://127.0.0.1:${closedPort}`, KODERZ_CACHE_DIR: cache };
    const result = await koderz(["run", "--problem-id", "HumanEval/0", "--db", path.join(workDir, "offline.db")], { cwd: workDir, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`every agent uses ${EMBEDDED_DEFAULT_MODEL}, in process (pick another with --local-model ID`);
    const expected = parseGgufSource(EMBEDDED_DEFAULT_MODEL.slice("llama:".length), env);
    if (expected.kind !== "hf") throw new Error("the embedded default is an hf: model");
    expect(result.stderr).toContain(`cannot download Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`);
    expect(result.stderr).toContain(`place it at ${expected.cachePath}`);
    // One error, not one per problem or per role.
    expect(result.stderr.match(/^error: /gm)).toHaveLength(1);
  });
});

describe("the embedded default", () => {
  const noOllama = async () => false;
  const empty = parseModelConfig({}, "koderz.config.json");

  it("is used for every role only when neither Ollama nor an API key is there", async () => {
    expect(await chooseDefaultModels({}, { config: empty, env: {}, ollamaAnswers: noOllama })).toMatchObject({
      localModel: EMBEDDED_DEFAULT_MODEL,
      frontierModel: EMBEDDED_DEFAULT_MODEL,
    });
    expect(await chooseDefaultModels({}, { config: empty, env: { OPENROUTER_API_KEY: "sk-x" }, ollamaAnswers: noOllama })).toEqual({});
    expect(await chooseDefaultModels({}, { config: empty, env: {}, ollamaAnswers: async () => true })).toEqual({});
  });

  it("can be named in koderz.config.json", async () => {
    const config = parseModelConfig({ defaultModel: "llama:/models/other.gguf" }, "koderz.config.json");
    const choice = await chooseDefaultModels({}, { config, env: {}, ollamaAnswers: noOllama });
    expect(choice.localModel).toBe("llama:/models/other.gguf");
    expect(choice.notice).toContain("llama:/models/other.gguf");
  });

  it("leaves a model the user named alone", async () => {
    const choice = await chooseDefaultModels({ localModel: "ollama:qwen3-coder:30b" }, { config: empty, env: {}, ollamaAnswers: noOllama });
    expect(choice).toEqual({ localModel: "ollama:qwen3-coder:30b" });
  });
});

describe("--threads", () => {
  it("gives each llama: model of the run that many threads, and leaves other models alone", () => {
    const flags = ModelOptions.parse({ localModel: "llama:/models/coder.gguf", frontierModel: "kimi-k2", threads: "3" });
    const config = withLlamaThreads(parseModelConfig({ models: { "llama:/models/coder.gguf": { threads: 1, batchSize: 64 } } }, "koderz.config.json"), flags);
    expect(resolveModel("llama:/models/coder.gguf", { config })).toMatchObject({ provider: "llama", threads: 3, batchSize: 64 });
    expect(resolveModel("kimi-k2", { config }).threads).toBeUndefined();
  });
});
