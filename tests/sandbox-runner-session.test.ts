import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { runBatch } from "../sandbox/runner-session.js";
import type { Program } from "../sandbox/sandbox.js";

/**
 * The host side of the runner protocol, fed by hand: whatever lines arrive on the runner's
 * channel, each program gets exactly one verdict, the first one for its id, and the batch ends.
 */
describe("runBatch against a runner that says odd things", () => {
  const programs: Program[] = ["a", "b"].map((id) => ({ id, source: "pass", timeoutSeconds: 3 }));
  const line = (id: string, status: string): string =>
    JSON.stringify({ id, status, result: status === "passed" ? "passed" : "failed: ", durationMs: 1, output: "" }) + "\n";

  test("unknown ids, repeated ids and malformed lines change no verdict and stop nothing", async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const pending = runBatch({ stdin, stdout, diagnostics: () => "", kill: () => stdout.end() }, programs, {});
    stdout.write(JSON.stringify({ ready: true, python: "3", warm: [], uid: 0, programUids: true, pid1: true }) + "\n");
    stdout.write(line("a", "failed"));
    stdout.write(line("a", "passed")); // a second verdict for a program that already has one
    stdout.write(line("someone-else", "passed")); // an id nobody asked for
    stdout.write('{"id": "b", "status": "passed"\n'); // a torn line
    stdout.write(line("b", "passed"));
    stdout.end();
    const verdicts = await pending;
    expect(verdicts.map((verdict) => [verdict.id, verdict.result])).toEqual([
      ["a", "failed: "],
      ["b", "passed"],
    ]);
  });
});
