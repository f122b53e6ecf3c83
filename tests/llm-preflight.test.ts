import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBackend } from "../src/llm/index.js";
import { failureOf } from "./helpers/failure.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

let server: ScriptedModelServer;
beforeAll(async () => {
  server = await startScriptedModelServer({ models: ["kimi-k2-0905-preview", "kimi-k2-turbo-preview"], apiKey: "sk-good" });
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe("preflight of OpenAI-compatible models", () => {
  it("fails on a missing key without any network call, saying which variable to set", async () => {
    const kimi = createBackend("kimi-k2", { baseUrl: server.openaiBaseUrl, env: {} });
    const error = await failureOf(kimi.preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/^MOONSHOT_API_KEY is not set/);
    expect(error.hint).toMatch(/^export MOONSHOT_API_KEY=/);
    expect(server.requests).toHaveLength(0);
  });

  it("does not send a call without its key either", async () => {
    const error = await failureOf(createBackend("chutes:some/model", { baseUrl: server.openaiBaseUrl, env: {} }).chat({ messages: [] }));
    expect(error.message).toMatch(/^CHUTES_API_KEY is not set/);
    expect(server.requests).toHaveLength(0);
  });

  it("passes with a good key, asking only GET /models", async () => {
    await createBackend("kimi-k2", { baseUrl: server.openaiBaseUrl, env: { MOONSHOT_API_KEY: "sk-good" } }).preflight();
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(["GET /v1/models"]);
  });

  it("says the key was rejected", async () => {
    const error = await failureOf(
      createBackend("kimi-k2", { baseUrl: server.openaiBaseUrl, env: { MOONSHOT_API_KEY: "sk-bad" } }).preflight(),
    );
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/rejected the key \(HTTP 401\)/);
    expect(error.hint).toMatch(/MOONSHOT_API_KEY/);
  });

  it("says when a hosted provider does not serve the model, suggesting names it does", async () => {
    const config = { models: { "moonshot:kimi-k3": { baseUrl: server.openaiBaseUrl } } };
    const error = await failureOf(createBackend("moonshot:kimi-k3", { config, env: { MOONSHOT_API_KEY: "sk-good" } }).preflight());
    expect(error.message).toMatch(/does not serve a model named "kimi-k3"/);
    expect(error.hint).toMatch(/kimi-k2-0905-preview/);
  });

  it("gives one clear error for an unreachable host", async () => {
    const closed = await startScriptedModelServer();
    const url = closed.openaiBaseUrl;
    await closed.close();
    const error = await failureOf(createBackend(`openai-compatible:m@${url}`).preflight());
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toMatch(/cannot reach .* connection refused/);
    expect(error.hint).toMatch(/base URL/);
  });

  it("accepts servers that do not implement GET /models", async () => {
    // Under this base path the fixture has no routes, so GET .../models is a 404, as on such servers.
    await createBackend(`openai-compatible:m@${server.ollamaHost}/no-models`).preflight();
  });
});
