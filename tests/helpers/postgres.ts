import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import pg from "pg";

/**
 * A throwaway PostgreSQL cluster for one test file: Debian's PostgreSQL binaries, its own
 * data directory under a temporary directory, its own port on 127.0.0.1, stopped and deleted
 * at the end. initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
 * When PostgreSQL is missing or does not start, this fails with what to do rather than
 * skipping: a skipped exactly-once test would pass CI silently.
 */
export interface TestPostgres {
  /** postgres://koderz@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** A fresh, empty database on the cluster, and its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops and starts the server (fast shutdown: connections are cut, as in a real restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's PostgreSQL binaries: KODERZ_PG_BIN, else the newest version installed. */
function postgresBin(): string {
  if (process.env.KODERZ_PG_BIN) return process.env.KODERZ_PG_BIN;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  return path.join(root, versions[0] ?? "15", "bin");
}
const BIN = postgresBin();

/** `durable`: fsync on, as a real server runs (benchmarks); tests run without it for speed. */
export async function startTestPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  const root = mkdtempSync(path.join(tmpdir(), "koderz-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number((await execa("id", ["-u", "postgres"])).stdout);
    const gid = Number((await execa("id", ["-g", "postgres"])).stdout);
    chownSync(root, uid, gid);
  }
  const run = (command: string, args: string[]) =>
    asRoot ? execa("runuser", ["-u", "postgres", "--", path.join(BIN, command), ...args]) : execa(path.join(BIN, command), args);
  const dataDir = path.join(root, "data");
  const port = await freePort();
  const pgCtl = (action: string) =>
    run("pg_ctl", [
      "-D", dataDir, "-l", path.join(root, "server.log"), "-w", "-t", "60",
      "-o", `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=${options.durable ? "on" : "off"} -c max_connections=200`,
      "-m", "fast", action,
    ]);
  try {
    await run("initdb", ["-D", dataDir, "-U", "koderz", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await pgCtl("start");
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(
      `these tests need PostgreSQL (Debian: apt-get install -y postgresql; binaries expected in ${BIN}): ` +
        (error instanceof Error ? error.message : String(error)),
      { cause: error },
    );
  }
  const url = `postgres://koderz@127.0.0.1:${port}/postgres`;
  let running = true;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://koderz@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await pgCtl("restart");
    },
    async stop() {
      if (running) {
        running = false;
        await pgCtl("stop").catch(() => undefined);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
