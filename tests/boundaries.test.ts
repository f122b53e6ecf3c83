import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./fixtures/datasets.js";

/**
 * `npm run lint` is where the boundaries of docs/ARCHITECTURE.md are enforced. These tests run its
 * steps as a developer or CI would: on the tree as it is, and on a copy of it with a violation planted.
 */

const SOURCE_FOLDERS = ["src", "agents", "policy", "tasks", "sandbox", "training", "bench"];
const CONFIG_FILES = ["package.json", "tsconfig.json", "tsconfig.pages.json", ".dependency-cruiser.cjs"];
const copies: string[] = [];

/** A copy of the sources and lint configuration, sharing this checkout's node_modules. */
function copyOfTree(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "koderz-boundaries-"));
  copies.push(dir);
  for (const name of [...SOURCE_FOLDERS, ...CONFIG_FILES]) {
    cpSync(path.join(repoRoot, name), path.join(dir, name), { recursive: true, filter: (from) => !from.includes("__pycache__") });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

function plant(dir: string, file: string, source: string): void {
  writeFileSync(path.join(dir, file), source);
}

async function lint(dir: string, step: string): Promise<{ exitCode: number; output: string }> {
  const result = await execa("npm", ["run", "--silent", step], { cwd: dir, reject: false, all: true });
  return { exitCode: result.exitCode ?? -1, output: result.all ?? "" };
}

afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

describe("npm run lint", () => {
  it("runs the boundary check, the TypeScript linter, the type checks and the Python compile check", () => {
    const scripts = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).scripts as Record<string, string>;
    for (const step of ["lint:boundaries", "lint:code", "typecheck", "lint:pages", "lint:python"]) expect(scripts.lint).toContain(`npm run ${step}`);
  });

  it("finds no boundary violation in the tree as it is", async () => {
    const { exitCode, output } = await lint(repoRoot, "lint:boundaries");
    expect(output).toContain("no dependency violations found");
    expect(exitCode).toBe(0);
  });

  it("fails on an upward import, a store internal imported from outside, and a cycle, naming each", async () => {
    const dir = copyOfTree();
    // Evaluation reaching up into the command line.
    plant(dir, "src/evaluation/planted-upward.ts", `import "../cli/main.js";\n`);
    // The report reading the SQLite engine's file instead of the store's index.
    plant(dir, "src/report/planted-bypass.ts", `import { SqliteStore } from "../store/store.js";\nexport const planted = SqliteStore;\n`);
    // Two modules of one folder importing each other.
    plant(dir, "tasks/planted-a.ts", `import { b } from "./planted-b.js";\nexport const a = () => b;\n`);
    plant(dir, "tasks/planted-b.ts", `import { a } from "./planted-a.js";\nexport const b = () => a;\n`);

    const { exitCode, output } = await lint(dir, "lint:boundaries");
    expect(exitCode).not.toBe(0);
    expect(output).toMatch(/layer-src\/evaluation: src\/evaluation\/planted-upward\.ts → src\/cli\/main\.ts/);
    expect(output).toMatch(/store-through-its-index: src\/report\/planted-bypass\.ts → src\/store\/store\.ts/);
    expect(output).toMatch(/no-circular: tasks\/planted-a\.ts →/);
    expect(output).toContain("3 dependency violations");
  });

  it("enforces the layers docs/ARCHITECTURE.md shows, in the same order", () => {
    const config = createRequire(import.meta.url)(path.join(repoRoot, ".dependency-cruiser.cjs")) as { forbidden: { name: string }[] };
    const enforced = config.forbidden.filter((rule) => rule.name.startsWith("layer-")).map((rule) => rule.name.slice("layer-".length).split("+"));
    const page = readFileSync(path.join(repoRoot, "docs/ARCHITECTURE.md"), "utf8");
    // Rows such as "| 2 | `src/queue`, `src/mcp` | layers 3–9 |".
    const documented = [...page.matchAll(/^\| \d+ \| (.+?) \|/gm)].map((row) => [...row[1]!.matchAll(/`([^`]+)`/g)].map((name) => name[1]!));
    expect(enforced.length).toBeGreaterThan(5);
    expect(documented).toEqual(enforced);
  });

  it("fails on a type error in a page script", async () => {
    const dir = copyOfTree();
    const app = path.join(dir, "src/report/viewer/app.js");
    // A misspelt DOM method: in a string it would have failed only in the user's browser.
    writeFileSync(app, readFileSync(app, "utf8").replace('window.addEventListener("hashchange"', 'window.addEventListner("hashchange"'));
    const { exitCode, output } = await lint(dir, "lint:pages");
    expect(exitCode).not.toBe(0);
    expect(output).toMatch(/app\.js\(\d+,\d+\): error TS2551: Property 'addEventListner' does not exist/);
  });
});
