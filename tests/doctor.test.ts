import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { registerDoctorCommand } from "../src/cli/doctor.js";
import { DoctorJsonSchema, type DoctorJson } from "../src/cli/doctor-json.js";
import { runInProcess, type CliResult } from "./fixtures/in-process-cli.js";
import { expectContractDocument } from "./helpers/json-contract.js";
import { contextLimited, doctorAnswers, rateLimitedFirst, withQuirk, type ContextWording } from "./fixtures/model-quirks.js";
import { startScriptedModelServer, type Script, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";

// `koderz doctor` against scripted servers that reproduce each quirk (their wire formats and the
// documentation they follow are in tests/fixtures/model-quirks.ts), through the real openai and
// ollama clients: each quirk must give its row, with what koderz does about it.

const servers: ScriptedModelServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

interface Setup {
  script: Script;
  format?: "openai" | "ollama";
  /** The context the server states and enforces (in the given wording). */
  context?: { length: number; wording: ContextWording };
  args?: string[];
  /** Served model names; the doctor asks for "scripted-model". */
  models?: string[];
}

async function doctor(setup: Setup): Promise<CliResult & { json: DoctorJson }> {
  const { context } = setup;
  const server = await startScriptedModelServer({
    models: setup.models ?? ["scripted-model"],
    ...(context ? { contextLength: context.length } : {}),
    script: context ? contextLimited(context.length, context.wording, setup.script) : setup.script,
  });
  servers.push(server);
  const dir = mkdtempSync(path.join(tmpdir(), "koderz-doctor-"));
  const config = path.join(dir, "koderz.config.json");
  const ollama = setup.format === "ollama";
  // Prices, so the usage row can say what the checks cost (a generic server has none).
  writeFileSync(
    config,
    JSON.stringify({
      models: {
        "my-model": ollama
          ? { provider: "ollama", model: "scripted-model", baseUrl: server.ollamaHost }
          : { model: "scripted-model", baseUrl: server.openaiBaseUrl, prices: { input: 0.5, output: 2 } },
      },
    }),
  );
  const result = await runInProcess(registerDoctorCommand, ["doctor", "my-model", "--config", config, "--json", ...(setup.args ?? [])]);
  const json = JSON.parse(result.stdout) as unknown;
  // The contract a script reads: docs/schemas/doctor.schema.json, by a JSON Schema validator.
  expectContractDocument("doctor", json);
  return { ...result, json: DoctorJsonSchema.parse(json) };
}

function rows(json: DoctorJson): Record<string, { status: string; detail: string; action: string | null }> {
  return Object.fromEntries(json.models[0]!.rows.map((row) => [row.check, row]));
}

const ALL_OK = ["reachable", "served", "chat", "usage", "reasoning", "code", "reviewer-json", "judge-json", "tools", "context", "streaming", "rate-limits"];

describe("koderz doctor", () => {
  it("a server that does everything right: every row ok, with figures", async () => {
    const result = await doctor({ script: doctorAnswers, context: { length: 4096, wording: "vllm" } });
    expect(result.exitCode, result.stderr).toBe(0);
    const found = rows(result.json);
    expect(Object.keys(found)).toEqual(ALL_OK);
    for (const check of ALL_OK) expect(found[check]!.status, `${check}: ${found[check]!.detail}`).toBe("ok");
    const model = result.json.models[0]!;
    expect(model).toMatchObject({ ready: true, contextClaimed: 4096, contextAccepted: 4096, usageEstimated: false });
    // The context probe was refused before any token was read: only the other checks count.
    expect(model.inputTokens).toBeGreaterThan(0);
    expect(model.costUsd).toBeGreaterThan(0);
    expect(model.latencyMs).not.toBeNull();
    expect(model.tokensPerSecond).not.toBeNull();
    expect(found.context!.detail).toContain("refuses a longer prompt");
  });

  it.each(["think-tags", "think-close-only", "reasoning-field", "reasoning-field-renamed"] as const)("%s: a thinking model, its reasoning set apart and never taken for code", async (quirk) => {
    const result = await doctor({ script: withQuirk(quirk, doctorAnswers) });
    const found = rows(result.json);
    expect(found.reasoning).toMatchObject({ status: "ok" });
    expect(found.reasoning!.detail).toContain("a thinking model");
    expect(found.reasoning!.action).toContain("never reads it as code or a tool call");
    expect(found.code!.status).toBe("ok");
    expect(found.code!.detail).toContain("reasoning was set apart");
    // Its reasoning holds a tool-call lookalike: the tool row still sees only the real call.
    expect(found.tools!.status).toBe("ok");
    expect(found["reviewer-json"]!.status).toBe("ok");
    expect(found["judge-json"]!.status).toBe("ok");
  });

  it("Ollama's thinking field gives the same row", async () => {
    const result = await doctor({ format: "ollama", script: withQuirk("reasoning-field", doctorAnswers) });
    expect(rows(result.json).reasoning!.detail).toContain("a thinking model");
    expect(rows(result.json).code!.status).toBe("ok");
  });

  it.each([
    ["qwen3-xml-tools", "Qwen3-Coder XML"],
    ["hermes-tools", "Hermes JSON"],
  ] as const)("%s: tool calls as text are read; the row says to enable the server's tool parser", async (quirk, name) => {
    for (const format of ["openai", "ollama"] as const) {
      const result = await doctor({ format, script: withQuirk(quirk, doctorAnswers) });
      expect(result.exitCode, result.stderr).toBe(0);
      const tools = rows(result.json).tools!;
      expect(tools.status).toBe("warn");
      expect(tools.detail).toContain(`read_file called as text (${name})`);
      expect(tools.action).toContain("--tool-call-parser");
    }
  });

  it("no usage block: usage and streaming warn that tokens are estimated, and the figures are not 0", async () => {
    const result = await doctor({ script: withQuirk("no-usage", doctorAnswers) });
    expect(result.exitCode, result.stderr).toBe(0);
    const found = rows(result.json);
    expect(found.usage).toMatchObject({ status: "warn" });
    expect(found.usage!.action).toContain("estimates tokens");
    expect(found.streaming!.status).toBe("warn");
    expect(found.streaming!.action).toContain("include_usage");
    const model = result.json.models[0]!;
    expect(model.usageEstimated).toBe(true);
    expect(model.inputTokens).toBeGreaterThan(0);
    expect(model.outputTokens).toBeGreaterThan(0);
  });

  it("a server that ignores response_format: the verdicts are still read", async () => {
    const result = await doctor({ script: withQuirk("ignores-response-format", doctorAnswers) });
    const found = rows(result.json);
    expect(found["reviewer-json"]).toMatchObject({ status: "ok" });
    expect(found["reviewer-json"]!.detail).toContain("JSON in a fence");
    expect(found["judge-json"]!.status).toBe("ok");
  });

  it("a length stop fails the code row as cut off, not as wrong code", async () => {
    const result = await doctor({ script: withQuirk("length-stop", doctorAnswers), args: ["--quick"] });
    expect(result.exitCode).toBe(1);
    const code = rows(result.json).code!;
    expect(code).toMatchObject({ status: "fail" });
    expect(code.detail).toContain("stopped at the 1024-token limit");
    expect(code.action).toContain("not as wrong code");
    expect(result.stderr).toMatch(/failed a check \(my-model: [^)]*code/);
  });

  it.each([
    ["vllm", "ok"],
    ["moonshot", "ok"],
  ] as const)("context in %s's words: claimed and enforced", async (wording, status) => {
    const result = await doctor({ script: doctorAnswers, context: { length: 2048, wording } });
    expect(rows(result.json).context!.status).toBe(status);
    expect(result.json.models[0]!.contextClaimed).toBe(2048);
  });

  it("Ollama cutting the prompt silently: the context row warns and says to set contextLength", async () => {
    const result = await doctor({ format: "ollama", script: doctorAnswers, context: { length: 2048, wording: "ollama-truncates" } });
    const context = rows(result.json).context!;
    expect(context.status).toBe("warn");
    expect(context.detail).toContain("cut the prompt silently");
    expect(context.action).toContain('"contextLength"');
    expect(result.json.models[0]!.contextAccepted).toBe(2048);
  });

  it("no stated context: a warning that names the setting", async () => {
    const result = await doctor({ format: "ollama", script: doctorAnswers });
    expect(rows(result.json).context).toMatchObject({ status: "warn", detail: "the server states no context length" });
    expect(rows(result.json).context!.action).toContain("num_ctx");
  });

  it.each([undefined, 1])("429s (Retry-After %s) are waited out and reported", async (retryAfter) => {
    const result = await doctor({ script: rateLimitedFirst(1, retryAfter, doctorAnswers), args: ["--quick"] });
    expect(result.exitCode, result.stderr).toBe(0);
    const limits = rows(result.json)["rate-limits"]!;
    expect(limits.status).toBe("warn");
    expect(limits.detail).toContain(retryAfter === undefined ? "with no Retry-After" : "with Retry-After (1 s)");
    expect(rows(result.json).chat!.status).toBe("ok");
  });

  it("a model that never calls tools fails the tools row with what to do", async () => {
    const result = await doctor({ script: (chat, i) => (chat.tools.length ? { text: "I cannot use tools." } : doctorAnswers(chat, i)) });
    expect(result.exitCode).toBe(1);
    const tools = rows(result.json).tools!;
    expect(tools.status).toBe("fail");
    expect(tools.action).toContain("--model-for");
  });

  it("a model the server does not have: served fails with the pull command, the rest is skipped", async () => {
    const result = await doctor({ format: "ollama", script: doctorAnswers, models: ["other-model"] });
    expect(result.exitCode).toBe(1);
    const found = rows(result.json);
    expect(found.reachable!.status).toBe("ok");
    expect(found.served).toMatchObject({ status: "fail", action: "ollama pull scripted-model" });
    expect(Object.keys(found)).toEqual(["reachable", "served"]);
  });

  it("an unreachable server: one failed row with the fix, and exit 1", async () => {
    const server = await startScriptedModelServer();
    const url = server.openaiBaseUrl;
    await server.close();
    const result = await runInProcess(registerDoctorCommand, ["doctor", `openai-compatible:m@${url}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/reachable\s+FAIL\s+cannot reach/);
    expect(result.stdout).toMatch(/served\s+skip/);
    expect(result.stdout).toContain("check the base URL");
  });

  it("the table names each check, its status and what koderz will do", async () => {
    const server = await startScriptedModelServer({ models: ["scripted-model"], script: withQuirk("qwen3-xml-tools", doctorAnswers) });
    servers.push(server);
    const result = await runInProcess(registerDoctorCommand, ["doctor", `openai-compatible:scripted-model@${server.openaiBaseUrl}`]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("ready, with");
    expect(result.stdout).toMatch(/tools\s+WARN\s+read_file called as text \(Qwen3-Coder XML\)/);
    expect(result.stdout).toMatch(/usage\s+WARN .*no price/);
    expect(result.stdout).toMatch(/latency \d+ ms/);
    expect(result.stderr).toContain("checking openai-compatible:scripted-model@");
  });
});
