import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reserveCallSlot, setModelRateLimit } from "../src/queue/model-rate-limit.js";
import { openStore } from "../src/store/index.js";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.js";

// The per-model rate limit lives in the database, so workers on different machines (here: two
// connection pools) share one schedule of call slots instead of each keeping its own.

let postgres: TestPostgres;
let url: string;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase("rate_limit");
  openStore({ path: url }).close(); // creates the schema
  pools.push(new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url }));
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await postgres?.stop();
});

describe("the shared per-model rate limit", () => {
  it("leaves a model without a limit alone", async () => {
    expect(await reserveCallSlot(pools[0]!, "openai:gpt-4o-mini")).toBe(0);
  });

  it("gives calls from two workers one slot each, a limit's interval apart", async () => {
    // 60 calls a minute: one slot a second, shared by both "workers".
    await setModelRateLimit(pools[0]!, "kimi-k2", 60);
    const waits = await Promise.all(Array.from({ length: 8 }, (_, i) => reserveCallSlot(pools[i % 2]!, "kimi-k2")));
    const slots = waits.map((ms) => Math.round(ms / 1000)).sort((a, b) => a - b);
    expect(slots).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
