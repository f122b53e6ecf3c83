import { createHash } from "node:crypto";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/index.js";
import { koderz, koderzBin, type KoderzRun } from "./fixtures/koderz-cli.js";
import { BASELINE_RUN, buildReportStore, COMPARATIVE_RUN } from "./fixtures/report-fixtures.js";

/**
 * The store as a user meets it when something is off: a file they may only read, a damaged or
 * cut-short file, a directory given as --db, a full disk, an output path that cannot be written.
 */

let work: string;
let goodStore: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "koderz-hardening-store-"));
  chmodSync(work, 0o755); // uid nobody must reach the read-only copies below
  goodStore = path.join(work, "good", "koderz.db");
  mkdirSync(path.dirname(goodStore));
  const store = openStore({ path: goodStore });
  buildReportStore(store, 8);
  store.close(); // a clean close folds the WAL back in: one file, as a copied store arrives
});
afterAll(() => {
  chmodTree(work);
  rmSync(work, { recursive: true, force: true });
});

function chmodTree(dir: string): void {
  if (!existsSync(dir)) return;
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) chmodTree(path.join(dir, entry.name));
}

function copyOfStore(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "koderz.db");
  copyFileSync(goodStore, file);
  return file;
}

/** One error naming the file, with a fix, and no stack trace. */
function expectOneError(run: KoderzRun, file: string, what: RegExp): void {
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toContain(file);
  expect(run.stderr).toMatch(what);
  expect(run.stderr).toMatch(/\n {2}fix: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toMatch(/internal error/);
}

const isRoot = process.getuid?.() === 0;
const hasSetpriv = isRoot && execa("setpriv", ["--version"], { reject: false }).then((r) => r.exitCode === 0);

/** The built koderz as uid nobody, who may read the store but write neither it nor its folder. */
async function koderzAsNobody(args: string[], cwd: string): Promise<KoderzRun> {
  const result = await execa("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "node", koderzBin, ...args], {
    cwd,
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent" },
  });
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
}

describe("read-only commands on a store the user cannot write", () => {
  it("results, compare and report work as uid nobody on a read-only file in a read-only folder, and leave it untouched", async (context) => {
    if (!(await hasSetpriv)) context.skip(); // needs root to switch to uid nobody
    const file = copyOfStore("read-only");
    const outDir = path.join(work, "nobody-out");
    mkdirSync(outDir);
    chmodSync(outDir, 0o777);
    chmodSync(file, 0o444);
    chmodSync(path.dirname(file), 0o555);
    const before = { bytes: sha256(file), mtime: statSync(file).mtimeMs };

    const list = await koderzAsNobody(["results", "list", "--json", "--db", file], outDir);
    expect(list.stderr).toBe("");
    expect(list.exitCode).toBe(0);
    expect((JSON.parse(list.stdout) as { runs: { runId: string }[] }).runs.map((run) => run.runId)).toContain(BASELINE_RUN);
    const show = await koderzAsNobody(["results", "show", BASELINE_RUN, "--db", file], outDir);
    expect(show.exitCode).toBe(0);
    expect(show.stdout).toContain("HumanEval/7");
    const compare = await koderzAsNobody(["compare", BASELINE_RUN, `${COMPARATIVE_RUN}:iterative`, "--db", file], outDir);
    expect(compare.exitCode).toBe(0);
    expect(compare.stdout).toContain("compared on 8 problems");
    const report = await koderzAsNobody(["report", BASELINE_RUN, "--output", path.join(outDir, "r.html"), "--db", file], outDir);
    expect(report.exitCode).toBe(0);
    expect(readFileSync(path.join(outDir, "r.html"), "utf8")).toContain(BASELINE_RUN);

    expect({ bytes: sha256(file), mtime: statSync(file).mtimeMs }).toEqual(before);
    expect(readdirSync(path.dirname(file))).toEqual(["koderz.db"]);
  });

  it("koderz view serves a read-only store as uid nobody", async (context) => {
    if (!(await hasSetpriv)) context.skip();
    const file = path.join(work, "read-only", "koderz.db");
    if (!existsSync(file)) context.skip(); // made by the test above
    const viewer = execa("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "node", koderzBin, "view", "--port", "0", "--db", file], {
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent" },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = "";
        viewer.stderr!.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          const match = /koderz view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen);
          if (match) resolve(match[1]!);
        });
        void viewer.then((done) => reject(new Error(`viewer exited: ${String(done.stderr)}${seen}`)));
      });
      const runs = (await (await fetch(new URL("/api/runs", url))).json()) as { runs: { runId: string }[] } | { runId: string }[];
      expect(JSON.stringify(runs)).toContain(BASELINE_RUN);
    } finally {
      viewer.kill("SIGINT");
      await viewer;
    }
  });

  it("a command that writes says it cannot, naming the store and what to do", async (context) => {
    if (!(await hasSetpriv)) context.skip();
    const file = path.join(work, "read-only", "koderz.db");
    if (!existsSync(file)) context.skip();
    const tag = await koderzAsNobody(["results", "tag", BASELINE_RUN, "nightly", "--db", file], work);
    expectOneError(tag, file, /cannot (write|open) the store/);
  });

  it("as root (file modes do not stop root), reading leaves the store's bytes and time as they were and writes no journal", async () => {
    const file = copyOfStore("root-read");
    const before = { bytes: sha256(file), mtime: statSync(file).mtimeMs };
    for (const args of [["results", "list"], ["results", "show", BASELINE_RUN], ["compare", BASELINE_RUN, `${COMPARATIVE_RUN}:zero-shot`]]) {
      const run = await koderz([...args, "--db", file], { cwd: work });
      expect([args.join(" "), run.exitCode]).toEqual([args.join(" "), 0]);
    }
    expect({ bytes: sha256(file), mtime: statSync(file).mtimeMs }).toEqual(before);
    const beside = readdirSync(path.dirname(file)).filter((name) => name !== "koderz.db");
    // SQLite's WAL readers may leave an empty -wal and its -shm index beside the file; never a journal or data.
    expect(beside.filter((name) => !/^koderz\.db-(wal|shm)$/.test(name))).toEqual([]);
    if (beside.includes("koderz.db-wal")) expect(statSync(`${file}-wal`).size).toBe(0);
  });
});

describe("a store that cannot be used says which file and what to do", () => {
  it("a file that is not a store", async () => {
    const file = path.join(work, "junk", "koderz.db");
    mkdirSync(path.dirname(file));
    writeFileSync(file, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 37 + 11) % 256)));
    for (const args of [["results", "list"], ["results", "tag", BASELINE_RUN, "x"], ["benchmark", "--resume", BASELINE_RUN]]) {
      expectOneError(await koderz([...args, "--db", file], { cwd: work }), file, /cannot read the store .*not a SQLite database/);
    }
  });

  it("a store cut short, as a full disk or a partial copy leaves it", async () => {
    const file = copyOfStore("truncated");
    truncateSync(file, Math.floor(statSync(file).size / 2));
    for (const args of [["results", "list"], ["compare", BASELINE_RUN, COMPARATIVE_RUN], ["results", "tag", BASELINE_RUN, "x"]]) {
      expectOneError(await koderz([...args, "--db", file], { cwd: work }), file, /cut short/);
    }
  });

  it("a directory given as --db", async () => {
    const dir = path.join(work, "a-directory");
    mkdirSync(dir);
    for (const args of [["results", "list"], ["results", "tag", BASELINE_RUN, "x"], ["report", BASELINE_RUN, "--output", path.join(work, "x.html")]]) {
      expectOneError(await koderz([...args, "--db", dir], { cwd: work }), dir, /is a directory, not a store file/);
    }
  });

  it("an --output that cannot be written: no half file and no temporary file left", async () => {
    const file = copyOfStore("output");
    const blocker = path.join(work, "output", "not-a-folder");
    writeFileSync(blocker, "x");
    const intoFile = await koderz(["report", BASELINE_RUN, "--db", file, "--output", path.join(blocker, "r.html")], { cwd: work });
    expectOneError(intoFile, path.join(blocker, "r.html"), /cannot write/);
    const dirTarget = path.join(work, "output", "a-folder");
    mkdirSync(dirTarget);
    const ontoDir = await koderz(["report", BASELINE_RUN, "--db", file, "--output", dirTarget], { cwd: work });
    expectOneError(ontoDir, dirTarget, /cannot write .*a directory/);
    // export checks its --output before reading the store: a bad flag value, so a usage error (exit 2).
    const exported = await koderz(["results", "export", BASELINE_RUN, "--format", "csv", "--db", file, "--output", dirTarget], { cwd: work });
    expect(exported.exitCode).toBe(2);
    expect(exported.stderr).toContain(`--output ${dirTarget} is a directory`);
    expect(exported.stderr).toMatch(/\n {2}fix: /);
    const left = readdirSync(path.join(work, "output")).filter((name) => !/^koderz\.db-(wal|shm)$/.test(name)); // SQLite's reader files
    expect(left.sort()).toEqual(["a-folder", "koderz.db", "not-a-folder"]);
    expect(readdirSync(dirTarget)).toEqual([]);
  });
});

describe("a full disk", () => {
  let mounted: string | undefined;
  afterAll(async () => {
    if (mounted) await execa("umount", [mounted], { reject: false });
  });

  async function smallDisk(name: string, size: string): Promise<string | undefined> {
    if (!isRoot) return undefined;
    const dir = path.join(work, name);
    mkdirSync(dir);
    const mount = await execa("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { reject: false });
    if (mount.exitCode !== 0) return undefined;
    mounted = dir;
    return dir;
  }

  it("report --output on a full disk: one error, no temporary file", async (context) => {
    const disk = await smallDisk("tiny-disk", "64k");
    if (!disk) context.skip(); // needs root and tmpfs mounts to make a disk that fills up
    const target = path.join(disk!, "report.html");
    const run = await koderz(["report", BASELINE_RUN, "--db", goodStore, "--output", target], { cwd: work });
    expectOneError(run, target, /the disk is full/);
    expect(readdirSync(disk!)).toEqual([]);
    await execa("umount", [disk!]);
    mounted = undefined;
  });

  it("a write to a store whose disk is full: one error naming the store, and the store still reads", async (context) => {
    const disk = await smallDisk("full-disk", "4m");
    if (!disk) context.skip();
    const file = path.join(disk!, "koderz.db");
    copyFileSync(goodStore, file);
    fillDisk(path.join(disk!, "filler"), 64 * 1024); // leave room for SQLite's shared-memory index, not for new data
    const bigTags = Array.from({ length: 400 }, (_, i) => `note:${"x".repeat(200)}${i}`);
    const run = await koderz(["results", "tag", BASELINE_RUN, ...bigTags, "--db", file], { cwd: work });
    expectOneError(run, file, /the disk is full/);
    rmSync(path.join(disk!, "filler"));
    const list = await koderz(["results", "list", "--json", "--db", file], { cwd: work });
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toContain(BASELINE_RUN);
    expect(list.stdout).not.toContain("note:");
  });
});

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Writes to `file` until the disk is full, then frees `leave` bytes. */
function fillDisk(file: string, leave: number): void {
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(16 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(fd);
  }
  truncateSync(file, Math.max(0, written - leave));
}
