import { describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import { checkPrerequisites } from "../src/prerequisites.js";

// What a command needs, checked at once: every failure in one error, what succeeded released.

describe("checkPrerequisites", () => {
  it("returns every value when all are there", async () => {
    const [models, dataset] = await checkPrerequisites([
      { what: "models", check: async () => new Map([["m", 1]]) },
      { what: "dataset", check: async () => ["HumanEval/0"] },
    ] as const);
    expect(models.get("m")).toBe(1);
    expect(dataset).toEqual(["HumanEval/0"]);
  });

  it("lists every missing one with its own fix, and releases what the others opened", async () => {
    const released: string[] = [];
    const error = await checkPrerequisites([
      { what: "models", check: () => Promise.reject(new KoderzError("model_unavailable", "cannot reach Ollama at http://127.0.0.1:1", "start Ollama")) },
      { what: "dataset", check: () => Promise.reject(new KoderzError("not_found", "HumanEval dataset not found. Looked in:\n  - here", "export KODERZ_DATA_DIR=...")) },
      { what: "sandbox", check: async () => "opened", release: (value: string) => void released.push(value) },
    ] as const).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KoderzError);
    const known = error as KoderzError;
    expect(known.code).toBe("prerequisites_missing");
    expect(known.message).toBe(
      "2 of the 3 things this command needs are missing:\n" +
        "  - models: cannot reach Ollama at http://127.0.0.1:1\n      fix: start Ollama\n" +
        "  - dataset: HumanEval dataset not found. Looked in:\n      - here\n      fix: export KODERZ_DATA_DIR=...",
    );
    expect(known.exitCode).toBe(1);
    expect(released).toEqual(["opened"]);
  });

  it("throws a single failure as it is, and a bug rather than a list", async () => {
    const single = new KoderzError("sandbox_unavailable", "no Docker engine answered", "start it");
    expect(await checkPrerequisites([{ what: "models", check: async () => 1 }, { what: "sandbox", check: () => Promise.reject(single) }]).catch((e: unknown) => e)).toBe(single);
    const bug = new TypeError("x is undefined");
    const failure = await checkPrerequisites([
      { what: "models", check: () => Promise.reject(new KoderzError("model_unavailable", "down")) },
      { what: "dataset", check: () => Promise.reject(bug) },
    ]).catch((e: unknown) => e);
    expect(failure).toBe(bug);
  });
});
