import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costUsd, createBackend, loadModelConfig, resolveModel } from "../src/llm/index.js";
import { thrown } from "./helpers/failure.js";

function configFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "koderz-config-"));
  writeFileSync(join(dir, "koderz.config.json"), content);
  return dir;
}

describe("model registry", () => {
  it("knows Kimi K2 on Moonshot, with its key, prices and context length", () => {
    expect(resolveModel("kimi-k2", { env: {} })).toEqual({
      id: "kimi-k2",
      provider: "openai-compatible",
      providerModel: "kimi-k2-0905-preview",
      baseUrl: "https://api.moonshot.ai/v1",
      apiKeyEnv: "MOONSHOT_API_KEY",
      prices: { inputPerMillion: 0.6, outputPerMillion: 2.5 },
      contextLength: 262_144,
      checkModelListed: true,
    });
  });

  it("maps each provider prefix to its server and key", () => {
    const env = { OLLAMA_HOST: "http://gpu-box:11434" };
    const brief = (id: string) => {
      const spec = resolveModel(id, { env });
      return [spec.provider, spec.providerModel, spec.baseUrl, spec.apiKeyEnv];
    };
    expect(brief("chutes:deepseek-ai/DeepSeek-V3")).toEqual(["openai-compatible", "deepseek-ai/DeepSeek-V3", "https://llm.chutes.ai/v1", "CHUTES_API_KEY"]);
    expect(brief("openrouter:moonshotai/kimi-k2")).toEqual(["openai-compatible", "moonshotai/kimi-k2", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"]);
    expect(brief("openai:gpt-4o-mini")).toEqual(["openai-compatible", "gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY"]);
    expect(brief("ollama:qwen3-coder:30b")).toEqual(["ollama", "qwen3-coder:30b", "http://gpu-box:11434", undefined]);
    expect(brief("openai-compatible:Qwen/Qwen2.5-Coder-32B@http://localhost:8000/v1")).toEqual([
      "openai-compatible",
      "Qwen/Qwen2.5-Coder-32B",
      "http://localhost:8000/v1",
      undefined,
    ]);
  });

  it("honours OPENAI_BASE_URL, and --base-url for any name", () => {
    expect(resolveModel("openai:gpt-4o", { env: { OPENAI_BASE_URL: "http://proxy:9000/v1" } }).baseUrl).toBe("http://proxy:9000/v1");
    const local = resolveModel("qwen2.5-coder", { baseUrl: "http://localhost:1234/v1", env: {} });
    expect(local).toMatchObject({ provider: "openai-compatible", providerModel: "qwen2.5-coder", baseUrl: "http://localhost:1234/v1" });
    expect(local.apiKeyEnv).toBeUndefined();
  });

  it("local Ollama models are free; unknown hosted prices stay unknown rather than guessed", () => {
    expect(resolveModel("ollama:qwen3-coder:30b", { env: {} }).prices).toEqual({ inputPerMillion: 0, outputPerMillion: 0 });
    expect(resolveModel("openrouter:some/new-model", { env: {} }).prices).toBeUndefined();
  });

  it("rejects an unknown model id, listing the forms it knows", () => {
    const error = thrown(() => createBackend("gpt-5-turbo-ultra", { env: {} }));
    expect(error.code).toBe("usage");
    expect(error.message).toBe('unknown model "gpt-5-turbo-ultra"');
    expect(error.hint).toMatch(/kimi-k2, kimi-k2-turbo, moonshot:<model>, chutes:<model>, openrouter:<model>, openai:<model>, ollama:<model>/);
    expect(error.hint).toMatch(/openai-compatible:<model>@<url>/);
  });

  it("asks where the server is for openai-compatible: without a URL", () => {
    expect(thrown(() => resolveModel("openai-compatible:qwen", { env: {} })).hint).toMatch(/openai-compatible:qwen@http/);
  });
});

describe("cost", () => {
  it("is tokens times the price per million", () => {
    expect(costUsd({ input: 2_000, output: 500 }, { inputPerMillion: 0.6, outputPerMillion: 2.5 })).toBeCloseTo(0.0012 + 0.00125, 12);
    expect(costUsd({ input: 2_000, output: 500 }, undefined)).toBe(0);
  });
});

describe("config file", () => {
  it("overrides a preset's prices and adds a model of its own", () => {
    const dir = configFile(
      JSON.stringify({
        agents: { note: "other parts of koderz may keep their own keys here" },
        models: {
          "kimi-k2": { prices: { input: 1, output: 3 }, contextLength: 128_000 },
          "qwen-vllm": { baseUrl: "http://gpu:8000/v1", model: "Qwen/Qwen2.5-Coder-32B-Instruct", apiKeyEnv: "VLLM_KEY", prices: { input: 0, output: 0 } },
          "ollama:qwen3-coder:30b": { contextLength: 32_768 },
        },
      }),
    );
    // Named with --config: a file merely found in the working directory may not pick VLLM_KEY (config-secrets.test.ts).
    const config = loadModelConfig({ cwd: dir, path: "koderz.config.json" });
    expect(resolveModel("kimi-k2", { config, env: {} })).toMatchObject({
      providerModel: "kimi-k2-0905-preview",
      prices: { inputPerMillion: 1, outputPerMillion: 3 },
      contextLength: 128_000,
    });
    expect(resolveModel("qwen-vllm", { config, env: {} })).toMatchObject({
      provider: "openai-compatible",
      providerModel: "Qwen/Qwen2.5-Coder-32B-Instruct",
      baseUrl: "http://gpu:8000/v1",
      apiKeyEnv: "VLLM_KEY",
    });
    expect(resolveModel("ollama:qwen3-coder:30b", { config, env: {} }).contextLength).toBe(32_768);
  });

  it("is optional in the working directory but required when named", () => {
    const empty = mkdtempSync(join(tmpdir(), "koderz-config-"));
    expect(loadModelConfig({ cwd: empty }).models).toEqual({});
    const error = thrown(() => loadModelConfig({ cwd: empty, path: "missing.json" }));
    expect(error.code).toBe("not_found");
  });

  it("says which field of which model is wrong", () => {
    const dir = configFile(JSON.stringify({ models: { "kimi-k2": { prices: { input: "cheap", output: 2 } } } }));
    const error = thrown(() => loadModelConfig({ cwd: dir }));
    expect(error.code).toBe("bad_input");
    expect(error.message).toMatch(/koderz\.config\.json: models\.kimi-k2\.prices\.input: /);
  });

  it("rejects misspelt fields rather than ignoring them", () => {
    const dir = configFile(JSON.stringify({ models: { "kimi-k2": { price: { input: 1, output: 2 } } } }));
    expect(thrown(() => loadModelConfig({ cwd: dir })).message).toMatch(/models\.kimi-k2: .*price/);
  });

  it("reports broken JSON", () => {
    const dir = configFile('{ "models": { ');
    const error = thrown(() => loadModelConfig({ cwd: dir }));
    expect(error.code).toBe("bad_input");
    expect(error.message).toMatch(/is not valid JSON/);
  });

  it("needs a base URL for a model that is not a preset", () => {
    const config = { models: { mystery: { model: "m" } }, source: "koderz.config.json" };
    expect(thrown(() => resolveModel("mystery", { config, env: {} })).message).toBe('koderz.config.json: model "mystery" has no baseUrl');
  });
});
