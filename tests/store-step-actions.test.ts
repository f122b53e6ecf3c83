import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type StepRecord } from "../src/store/index.js";
import { makeExperiment, makeRun } from "./fixtures/store-fixtures.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// A step names who took it (agent) and what it did (action), in two columns since schema
// version 4. A store written before kept both in `agent` ("Coder:edit", "run_tests", "Judge");
// opening it upgrades those rows in place, on both engines, so old runs read like new ones.

let postgres: TestPostgres;
const dir = mkdtempSync(path.join(tmpdir(), "koderz-step-actions-"));

beforeAll(async () => {
  postgres = await startTestPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const RUN = "solve_0000abcd_20250101_100000";
const experiment = makeExperiment({ runId: RUN, arm: "standard", problemId: "local/issue", success: true });

function step(index: number, agent: string, action: string): StepRecord {
  return { experimentId: experiment.experimentId, index, agent, action, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs: 1 };
}

const steps = [step(0, "koderz", "run_tests"), step(1, "Coder", "model"), step(2, "Coder", "edit"), step(3, "Tester", "run_tests"), step(4, "koderz", "judge")];
/** The same steps as version 3 stored them, in one column. */
const OLD_NAMES = ["run_tests", "Coder", "Coder:edit", "Tester:run_tests", "Judge"];

/** Turns the store back into a version-3 store: one `agent` column holding both. */
async function downgrade(engine: "sqlite" | "postgres", location: string): Promise<void> {
  const statements = [
    ...OLD_NAMES.map((name, index) => `UPDATE steps SET agent = '${name}' WHERE step_index = ${index}`),
    "ALTER TABLE steps DROP COLUMN action",
    `DELETE FROM ${engine === "sqlite" ? "schema_version" : "koderz_schema_version"} WHERE version = 4`,
  ];
  if (engine === "sqlite") {
    const db = new Database(location);
    for (const sql of statements) db.exec(sql);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  for (const sql of statements) await client.query(sql);
  await client.end();
}

describe.each(["sqlite", "postgres"] as const)("the %s store", (engine) => {
  it("keeps a step's agent and action apart, and upgrades steps stored in one column", async () => {
    const location = engine === "sqlite" ? path.join(dir, "store.db") : await postgres.createDatabase("step_actions");
    const written = openStore({ path: location });
    try {
      written.createRun(makeRun({ runId: RUN, mode: "standard" }));
      written.recordExperiment(experiment, steps);
      expect(written.steps(experiment.experimentId).map((s) => [s.agent, s.action])).toEqual(steps.map((s) => [s.agent, s.action]));
    } finally {
      written.close();
    }

    await downgrade(engine, location);
    const upgraded = openStore({ path: location });
    try {
      expect(upgraded.steps(experiment.experimentId).map((s) => [s.agent, s.action])).toEqual(steps.map((s) => [s.agent, s.action]));
    } finally {
      upgraded.close();
    }
  });
});
