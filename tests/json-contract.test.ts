import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JSON_DOCUMENTS, jsonSchemaText } from "../src/cli/json-documents.js";
import { registerCommands } from "../src/cli/commands.js";
import { registerSpeedTestCommand } from "../src/cli/speed-test.js";
import { writeRunSummary, type Store } from "../src/store/index.js";
import { loadSuiteFile } from "../tasks/load.js";
import { humanEvalFile } from "./fixtures/datasets.js";
import { enterOfflineWorkDir } from "./helpers/offline-work-dir.js";
import { expectCamelCase, expectContractDocument, expectValidDocument } from "./helpers/json-contract.js";
import { ReferenceHarnessSandbox } from "./fixtures/reference-oracle.js";
import { runEvaluateCli } from "./fixtures/run-evaluate.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { runCli } from "./fixtures/store-cli.js";
import { makeExperiment, makeRun, makeSteps, recordArm, tempStore } from "./fixtures/store-fixtures.js";

/**
 * The JSON contract (camelCase, fractions, schemaVersion 1, null for unknown), checked the way a
 * script author would: every command's JSON output validated by a JSON Schema validator (ajv)
 * against the files in docs/schemas/, which must be what the zod schemas generate today.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const expectValid = expectValidDocument;

describe("docs/schemas", () => {
  it("holds one JSON Schema per document, as the zod schemas generate them (npm run schemas rewrites them)", () => {
    for (const document of JSON_DOCUMENTS) {
      const file = path.join(root, "docs", "schemas", `${document.name}.schema.json`);
      expect(readFileSync(file, "utf8"), `${file} is stale: run npm run schemas`).toBe(jsonSchemaText(document));
    }
  });
});

/** Each command with a --json flag, and the document it prints (a name in JSON_DOCUMENTS). */
const JSON_FLAGS: Record<string, string> = {
  benchmark: "run-summary",
  run: "run-summary",
  "results list": "run-list",
  "results show": "results-show",
  compare: "compare",
  evaluate: "evaluate",
  audit: "audit",
  "sandbox status": "sandbox-status",
  "speed-test": "speed-test",
  doctor: "doctor",
  solve: "solve",
  "train-meta": "train-meta",
};

describe("every --json has a schema", () => {
  it("finds each command's --json flag and a document for it (a new --json needs a schema and a test)", async () => {
    const withJson: string[] = [];
    const walk = (command: Command, prefix: string[]): void => {
      const name = [...prefix, command.name()].filter(Boolean);
      if (command.options.some((option) => option.long === "--json")) withJson.push(name.join(" "));
      for (const sub of command.commands) walk(sub, name);
    };
    const names = new Command();
    await registerCommands(names, ["node", "koderz"]);
    for (const { name } of names.commands.map((command) => ({ name: command.name() }))) {
      const program = new Command();
      await registerCommands(program, ["node", "koderz", name]);
      for (const command of program.commands) walk(command, []);
    }
    expect(withJson.sort()).toEqual(Object.keys(JSON_FLAGS).sort());
    const documents = new Set(JSON_DOCUMENTS.map((document) => document.name));
    for (const document of Object.values(JSON_FLAGS)) expect(documents).toContain(document);
  });
});

describe("every command's JSON validates against its schema", () => {
  let store: Store;
  let dbPath: string;
  let dir: string;
  let cleanup: () => void;
  const COMPARATIVE = "bench_c0c0c0c0_20250101_100000";
  const SINGLE = "bench_51515151_20250102_100000";
  const IMPORTED = "import_1a1a1a1a_20250103_100000";

  beforeAll(() => {
    ({ store, dbPath, dir, cleanup } = tempStore());
    store.createRun(makeRun({ runId: COMPARATIVE, label: "qwen-comparative", mode: "comparative", config: { localModel: "ollama:qwen3-coder:30b", frontierModel: "kimi-k2", suite: "humaneval", problemRange: [0, 4], maxIterations: 5, sandbox: "docker" } }));
    recordArm(store, COMPARATIVE, "zero-shot", [true, false, false, true]);
    recordArm(store, COMPARATIVE, "iterative", [true, true, false, true]);
    store.finishRun(COMPARATIVE, "finished");
    store.createRun(makeRun({ runId: SINGLE, mode: "deep", config: { localModel: "ollama:qwen3-coder:30b", suite: "coder-rubric" } }));
    const measured = makeExperiment({ runId: SINGLE, arm: "deep", problemId: "rubric/a", success: true });
    store.recordExperiment({ ...measured, suite: "coder-rubric", category: "coding", tier: "T2", score: 4, measures: { code: { cyclomatic: 2, meanCyclomatic: 2, halsteadVolume: 20, sloc: 4, maintainability: 70 } } }, makeSteps(measured.experimentId, 2));
    store.finishRun(SINGLE, "interrupted");
    // An import that logged no costs or tokens: they are null everywhere, never $0.
    store.createRun(makeRun({ runId: IMPORTED, kind: "import", mode: "fast", label: "gpt4-import", config: {}, tags: ["imported", "cost:unknown", "tokens:unknown"] }));
    recordArm(store, IMPORTED, "fast", [true, false, true, true]);
    store.finishRun(IMPORTED, "finished");
  });
  afterAll(() => cleanup());

  async function json(args: string[]): Promise<unknown> {
    const result = await runCli([...args, "--db", dbPath]);
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  }

  it("results list --json", async () => {
    const document = (await json(["results", "list", "--json"])) as { runs: { runId: string; costUsd: number | null }[] };
    expectValid("run-list", document);
    expectCamelCase(document);
    expect(document.runs.find((run) => run.runId === IMPORTED)!.costUsd).toBeNull();
  });

  it("results show --json, for each kind of run", async () => {
    for (const run of [COMPARATIVE, SINGLE, "gpt4-import"]) {
      const document = await json(["results", "show", run, "--json"]);
      expectValid("results-show", document);
      expectCamelCase(document);
    }
  });

  it("results export: json is the run summary, each jsonl line an experiment row; the written summary file too", async () => {
    for (const run of [COMPARATIVE, SINGLE, IMPORTED]) {
      const summary = await json(["results", "export", run, "--format", "json"]);
      expectValid("run-summary", summary);
      expectCamelCase(summary);
      const lines = (await runCli(["results", "export", run, "--format", "jsonl", "--db", dbPath])).stdout.trim().split("\n");
      for (const line of lines) expectValid("experiment-row", JSON.parse(line));
      const file = writeRunSummary(store, run, path.join(dir, "results"));
      expectValid("run-summary", JSON.parse(readFileSync(file, "utf8")));
    }
    const imported = (await json(["results", "export", IMPORTED, "--format", "json"])) as { summary: { totalCostUsd: unknown; inputTokens: unknown; successRate: number } };
    expect(imported.summary).toMatchObject({ totalCostUsd: null, inputTokens: null, successRate: 0.75 });
  });

  it("compare --json (two runs, one multi-arm run, and with gates)", async () => {
    for (const args of [[`${COMPARATIVE}:zero-shot`, IMPORTED], [COMPARATIVE], ["qwen-comparative", "--fail-below", "0.9"]]) {
      const result = await runCli(["compare", ...args, "--json", "--db", dbPath]);
      const document = JSON.parse(result.stdout) as unknown;
      expectValid("compare", document);
      expectCamelCase(document);
    }
  });

  it("evaluate --json", async () => {
    const tasks = (await loadSuiteFile(humanEvalFile, "humaneval")).slice(0, 2);
    const file = path.join(dir, "samples.jsonl");
    writeFileSync(file, tasks.map((task) => JSON.stringify({ task_id: task.id, completion: task.canonicalSolution })).join("\n") + "\n");
    const offline = enterOfflineWorkDir("koderz-contract-");
    const run = await runEvaluateCli([file, "--json", "--allow-partial"], new ReferenceHarnessSandbox()).finally(() => offline.restore());
    expect(run.error).toBeUndefined();
    const document = JSON.parse(run.stdout) as unknown;
    expectValid("evaluate", document);
    expect(document).toMatchObject({ schemaVersion: 1, samples: 2, passed: 2, passAtK: { "pass@1": 1 } });
  });

  it("sandbox status --json", async () => {
    const bin = path.join(root, "dist", "src", "cli", "main.js");
    const result = await execa("node", [bin, "sandbox", "status", "--json"], { reject: false, env: { DOCKER_HOST: "unix:///nonexistent/koderz-test.sock" } });
    const document = JSON.parse(result.stdout) as unknown;
    expectValid("sandbox-status", document);
    expectCamelCase(document);
  });

  it("train-meta --json (synthetic; replay and live are checked in the training tests)", async () => {
    const bin = path.join(root, "dist", "src", "cli", "main.js");
    const out = path.join(dir, "policy.json");
    const result = await execa("node", [bin, "train-meta", "--episodes", "40", "--eval-episodes", "20", "--checkpoint-every", "0", "--backend", "cpu", "--out", out, "--json"], { reject: false, cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout) as unknown;
    expectContractDocument("train-meta", document);
    expect(document).toMatchObject({ source: "synthetic", rows: expect.arrayContaining([expect.objectContaining({ name: "learned" })]) });
  });

  describe("speed-test --json", () => {
    let server: ScriptedModelServer;
    beforeAll(async () => {
      server = await startScriptedModelServer({ models: ["scripted-model"] });
      server.setScript(() => ({ text: "def f():\n    return 1", usage: { input: 10, output: 5 } }));
    });
    afterAll(() => server.close());

    it("validates", async () => {
      const program = new Command().exitOverride();
      registerSpeedTestCommand(program);
      let stdout = "";
      const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
        stdout += String(chunk);
        return true;
      });
      const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      try {
        await program.parseAsync(["node", "koderz", "speed-test", `openai-compatible:scripted-model@${server.openaiBaseUrl}`, "--runs", "1", "--json"]);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
      const document = JSON.parse(stdout) as unknown;
      expectValid("speed-test", document);
      expectCamelCase(document);
    });
  });
});
