import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerCommands } from "../src/cli/commands.js";
import { KoderzError } from "../src/errors.js";
import { createBackend, loadModelConfig, resolveModel } from "../src/llm/index.js";
import { openStore } from "../src/store/index.js";
import { lockRun, runLockPath } from "../src/store/run-lock.js";
import { koderz } from "./fixtures/koderz-cli.js";
import { startScriptedModelServer, type ScriptedModelServer } from "./fixtures/scripted-model-server.js";
import { makeRun } from "./fixtures/store-fixtures.js";
import { failureOf, thrown } from "./helpers/failure.js";

let work: string;
let server: ScriptedModelServer;
beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), "koderz-hardening-models-"));
  server = await startScriptedModelServer({ models: ["kimi-k2-0905-preview"] });
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

function dirWithConfig(name: string, config: unknown): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "koderz.config.json"), JSON.stringify(config));
  return dir;
}

describe("a koderz.config.json found in the working directory cannot send a preset's key elsewhere", () => {
  const redirect = () => ({ models: { "kimi-k2": { baseUrl: server.openaiBaseUrl } } });

  it("is refused, naming the file, the model, the new URL and the key it would have sent", () => {
    const cwd = dirWithConfig("found", redirect());
    const error = thrown(() => createBackend("kimi-k2", { config: loadModelConfig({ cwd }), env: { MOONSHOT_API_KEY: "sk-secret" } }));
    expect(error.code).toBe("bad_input");
    expect(error.message).toContain(path.join(cwd, "koderz.config.json"));
    expect(error.message).toContain(server.openaiBaseUrl);
    expect(error.message).toContain("MOONSHOT_API_KEY");
    expect(error.hint).toMatch(/--config .*koderz\.config\.json|"apiKeyEnv"/);
  });

  it("is accepted with --config, or when the entry names the preset's own key itself", () => {
    const cwd = dirWithConfig("named", redirect());
    const viaFlag = resolveModel("kimi-k2", { config: loadModelConfig({ cwd, path: "koderz.config.json" }), env: {} });
    expect([viaFlag.baseUrl, viaFlag.apiKeyEnv]).toEqual([server.openaiBaseUrl, "MOONSHOT_API_KEY"]);
    const ownKey = dirWithConfig("own-key", { models: { "kimi-k2": { baseUrl: server.openaiBaseUrl, apiKeyEnv: "MOONSHOT_API_KEY" } } });
    expect(resolveModel("kimi-k2", { config: loadModelConfig({ cwd: ownKey }), env: {} }).apiKeyEnv).toBe("MOONSHOT_API_KEY");
  });

  it("still applies a found file's prices and new models", () => {
    const cwd = dirWithConfig("prices", { models: { "kimi-k2": { prices: { input: 1, output: 3 } }, mine: { baseUrl: "http://127.0.0.1:9/v1" } } });
    const config = loadModelConfig({ cwd });
    expect(resolveModel("kimi-k2", { config, env: {} }).prices).toEqual({ inputPerMillion: 1, outputPerMillion: 3 });
    expect(resolveModel("mine", { config, env: {} }).baseUrl).toBe("http://127.0.0.1:9/v1");
  });

  it("koderz speed-test sends nothing to the redirected server, and with --config says which file sent which model where", async () => {
    const cwd = dirWithConfig("cli", redirect());
    server.reset();
    const found = await koderz(["speed-test", "kimi-k2", "--runs", "1"], { cwd, env: { MOONSHOT_API_KEY: "sk-secret" } });
    expect(found.exitCode).toBe(1);
    expect(found.stderr).toMatch(/found in the working directory/);
    expect(server.requests).toHaveLength(0);

    const named = await koderz(["speed-test", "kimi-k2", "--runs", "1", "--config", "koderz.config.json"], { cwd, env: { MOONSHOT_API_KEY: "sk-secret" } });
    expect(named.stderr).toContain(`${path.join(cwd, "koderz.config.json")}: kimi-k2 goes to ${server.openaiBaseUrl} instead of https://api.moonshot.ai/v1 (key MOONSHOT_API_KEY)`);
    expect(server.requests.length).toBeGreaterThan(0);
  });
});

describe("preflight", () => {
  const models = ["--local-model", "ollama:qwen3-coder:30b", "--frontier-model", "kimi-k2"];
  /** A directory to run in, and an environment with Ollama down, no Moonshot key, no dataset where koderz looks and no Docker engine. */
  async function nothingReady(name: string): Promise<{ cwd: string; env: Record<string, string> }> {
    const cwd = path.join(work, name);
    mkdirSync(cwd);
    const closed = await startScriptedModelServer();
    await closed.close();
    const home = path.join(work, `${name}-home`);
    mkdirSync(home);
    return {
      cwd,
      env: { HOME: home, OLLAMA_HOST: closed.ollamaHost, KODERZ_DATA_DIR: path.join(work, "no-datasets"), KODERZ_OFFLINE: "1", DOCKER_HOST: `unix://${path.join(work, "no-docker.sock")}` },
    };
  }

  /** One error, naming each missing thing with its own fix, and the list's own fix. */
  function expectOneListedError(stderr: string, missing: string[]): void {
    expect(stderr.match(/^error: /gm)).toHaveLength(1);
    expect(stderr).toMatch(new RegExp(`^error: ${missing.length} of the \\d+ things this command needs are missing:`, "m"));
    for (const what of missing) expect(stderr).toMatch(new RegExp(`^  - ${what}: [^\\n]+[\\s\\S]*?\\n +fix: `, "m"));
  }

  it("lists every missing prerequisite at once: each model, the dataset and the sandbox engine, each with its fix, and leaves no empty store behind", async () => {
    const { cwd, env } = await nothingReady("preflight");
    const run = await koderz(["benchmark", "0", "164", "--mode", "comparative", "--sandbox", "docker", ...models], { cwd, env });
    expect(run.exitCode).toBe(1);
    expectOneListedError(run.stderr, ["models", "dataset", "sandbox"]);
    expect(run.stderr).toMatch(/2 of the 2 models this run calls are not ready/);
    expect(run.stderr).toMatch(/ollama:qwen3-coder:30b: cannot reach Ollama/);
    expect(run.stderr).toMatch(/kimi-k2: MOONSHOT_API_KEY is not set/);
    expect(run.stderr).toMatch(/HumanEval dataset not found[\s\S]*KODERZ_DATA_DIR=/);
    expect(run.stderr).toContain(`no Docker engine answered at ${env.DOCKER_HOST}`);
    expect(readdirSync(cwd)).toEqual([]); // no results/koderz.db, no results/
  });

  it("koderz run lists the models and the dataset together, then a problem the dataset does not have", async () => {
    const { cwd, env } = await nothingReady("preflight-run");
    const down = await koderz(["run", "--problem-id", "HumanEval/3", "--dataset", "humaneval+", "--sandbox", "docker", ...models], { cwd, env });
    expect(down.exitCode).toBe(1);
    expectOneListedError(down.stderr, ["models", "dataset", "sandbox"]);
    expect(down.stderr).toMatch(/ollama:qwen3-coder:30b: cannot reach Ollama/);
    expect(down.stderr).toMatch(/HumanEval\+ dataset not found/);

    const scripted = "ollama:kimi-k2-0905-preview";
    const unknown = await koderz(["run", "--problem-id", "HumanEval/999", "--local-model", scripted, "--frontier-model", scripted], { cwd, env: { OLLAMA_HOST: server.ollamaHost } });
    expect(unknown.exitCode, unknown.stderr).toBe(1);
    expect(unknown.stderr).toMatch(/no problem HumanEval\/999 in humaneval/);
    expect(unknown.stderr).toMatch(/problem ids look like HumanEval\/0/);
    expect(unknown.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("koderz solve lists the models, the repository and the workspace engine that are missing in one error", async () => {
    const { cwd, env } = await nothingReady("preflight-solve");
    const notARepo = path.join(work, "not-a-repo");
    mkdirSync(notARepo);
    writeFileSync(path.join(work, "issue.md"), "add() returns the wrong sum\n");
    const solve = await koderz(["solve", "--repo", notARepo, "--issue", path.join(work, "issue.md"), ...models], { cwd, env });
    expect(solve.exitCode).toBe(1);
    expectOneListedError(solve.stderr, ["models", "issue", "sandbox"]);
    expect(solve.stderr).toMatch(/2 of the 2 models this run calls are not ready/);
    expect(solve.stderr).toContain(notARepo);
    expect(solve.stderr).toContain("no Docker engine answered");
  });

  it("koderz train-meta --env live lists its missing models, dataset and sandbox in one error, before any training", async () => {
    const { cwd, env } = await nothingReady("preflight-train");
    const live = await koderz(["train-meta", "--env", "live", "--episodes", "2", "--sandbox", "docker", "--out", "live.json", ...models], { cwd, env });
    expect(live.exitCode).toBe(1);
    expectOneListedError(live.stderr, ["dataset", "models", "sandbox"]);
    expect(live.stderr).not.toMatch(/trained|episodes from/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("suggests only flags that the commands have", async () => {
    const program = new Command();
    await registerCommands(program, ["node", "koderz", "benchmark"]);
    const benchmark = program.commands.find((command) => command.name() === "benchmark")!;
    const flags = new Set(benchmark.options.map((option) => option.long));
    const hints: string[] = [];
    const collect = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        if (error instanceof KoderzError) hints.push(`${error.message} ${error.hint ?? ""}`);
      }
    };
    collect(() => resolveModel("no-such-model", { env: {} }));
    collect(() => resolveModel("openai-compatible:qwen", { env: {} }));
    return failureOf(createBackend("ollama:qwen3-coder:30b", { env: { OLLAMA_HOST: "http://127.0.0.1:9" } }).preflight()).then((error) => {
      hints.push(`${error.message} ${error.hint ?? ""}`);
      expect(hints).toHaveLength(3);
      const suggested = hints.flatMap((hint) => hint.match(/--[a-z][a-z-]+/g) ?? []);
      expect(suggested.filter((flag) => !flags.has(flag))).toEqual([]);
    });
  });
});

describe("two --resume of the same run", () => {
  const runId = "bench_0a0b0c0d_20260101_000000";
  let db: string;
  beforeAll(() => {
    db = path.join(work, "resume", "koderz.db");
    mkdirSync(path.dirname(db), { recursive: true });
    const store = openStore({ path: db });
    store.createRun(makeRun({ runId, status: "interrupted" }));
    store.close();
  });

  it("the second is refused before any model is checked, naming the holder's pid, host and start time", async () => {
    const held = lockRun(db, runId);
    try {
      server.reset();
      const second = await koderz(["benchmark", "--resume", runId, "--db", db], { cwd: work, env: { MOONSHOT_API_KEY: "sk-x" } });
      expect(second.exitCode).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`run ${runId} is already being worked on by process ${process.pid} on ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT`));
      expect(server.requests).toHaveLength(0);
      expect(existsSync(runLockPath(db, runId))).toBe(true); // the holder's lock is left alone
    } finally {
      held.release();
    }
    expect(existsSync(runLockPath(db, runId))).toBe(false);
  });

  it("a lock left by a process that died is taken over", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid!;
    writeFileSync(runLockPath(db, runId), JSON.stringify({ pid: dead, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", token: "old" }));
    const lock = lockRun(db, runId);
    expect(lock.tookOverFrom?.pid).toBe(dead);
    lock.release();

    writeFileSync(runLockPath(db, runId), JSON.stringify({ pid: dead, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", token: "old" }));
    const resumed = await koderz(["benchmark", "--resume", runId, "--db", db], { cwd: work });
    expect(resumed.stderr).toContain(`took over the lock of process ${dead}`);
    expect(existsSync(runLockPath(db, runId))).toBe(false); // released when the command ended
  });

  it("a live holder in this process is refused too (no second worker by accident)", () => {
    const first = lockRun(db, runId);
    try {
      expect(thrown(() => lockRun(db, runId)).message).toMatch(/already being worked on/);
    } finally {
      first.release();
    }
  });
});
