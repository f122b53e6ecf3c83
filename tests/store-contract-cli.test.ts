import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/index.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN, DEEP_RUN } from "./fixtures/report-fixtures.js";
import { runReportCli } from "./fixtures/report-cli.js";
import { runCli } from "./fixtures/store-cli.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// The read and write commands over the store (results, compare, report) print the same on
// SQLite and on PostgreSQL when both hold the same runs: --db takes a file or a postgres:// URL.

let postgres: TestPostgres;
const dir = mkdtempSync(path.join(tmpdir(), "koderz-contract-cli-"));
const locations: Record<"sqlite" | "postgres", string> = { sqlite: path.join(dir, "koderz.db"), postgres: "" };

beforeAll(async () => {
  postgres = await startTestPostgres();
  locations.postgres = await postgres.createDatabase("contract_cli");
  for (const location of Object.values(locations)) {
    const store = openStore({ path: location });
    try {
      buildReportStore(store);
    } finally {
      store.close();
    }
  }
});

afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const COMMANDS: string[][] = [
  ["results", "list"],
  ["results", "list", "--tags", "zero-shot", "--json"],
  ["results", "list", "--model", "kimi-k2"],
  ["results", "show", COMPARATIVE_RUN],
  ["results", "show", DEEP_RUN, "--json"],
  ["results", "export", BASELINE_RUN, "--format", "csv"],
  ["results", "export", COMPARATIVE_RUN, "--format", "json"],
  ["compare", BASELINE_RUN, `${COMPARATIVE_RUN}:iterative`, DEEP_RUN],
];

describe("results and compare on both engines", () => {
  it.each(COMMANDS.map((args) => [args.join(" "), args] as const))("koderz %s prints the same", async (_name, args) => {
    const [sqlite, postgresResult] = [await runCli([...args, "--db", locations.sqlite]), await runCli([...args, "--db", locations.postgres])];
    expect(sqlite.exitCode, sqlite.stderr).toBe(0);
    expect(sqlite.stdout.length).toBeGreaterThan(0);
    expect(postgresResult.exitCode, postgresResult.stderr).toBe(0);
    expect(postgresResult.stdout).toEqual(sqlite.stdout);
  });

  it("writes through tag and stage on PostgreSQL as on SQLite", async () => {
    for (const location of Object.values(locations)) {
      expect((await runCli(["results", "tag", DEEP_RUN, "nightly", "--db", location])).exitCode).toBe(0);
      expect((await runCli(["results", "stage", DEEP_RUN, "candidate", "--db", location])).exitCode).toBe(0);
    }
    // One at a time: in-process runs capture stdout by replacing process.stdout.write.
    const listings = [];
    for (const location of Object.values(locations)) listings.push(await runCli(["results", "list", "--tags", "nightly", "--json", "--db", location]));
    expect(JSON.parse(listings[0]!.stdout).runs).toHaveLength(1);
    expect(listings[1]!.stdout).toEqual(listings[0]!.stdout);
  });

  it("builds the same HTML report from either engine", async () => {
    const pages: string[] = [];
    for (const [engine, location] of Object.entries(locations)) {
      const output = path.join(dir, `${engine}.html`);
      const result = await runReportCli(["report", BASELINE_RUN, COMPARATIVE_RUN, "--output", output, "--db", location]);
      expect(result.exitCode, result.stderr).toBe(0);
      // When it was generated is the one thing allowed to differ.
      pages.push(readFileSync(output, "utf8").replace(/generated [^<]* UTC/, "generated").replace(/"generatedAt":"[^"]*"/g, '"generatedAt":""'));
    }
    expect(pages[0]!.length).toBeGreaterThan(1000);
    expect(pages[1]).toEqual(pages[0]);
  });
});
