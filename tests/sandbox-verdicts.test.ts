import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Sandbox, Verdict } from "../sandbox/sandbox.js";
import { BOTH_SANDBOXES } from "./helpers/sandboxes.js";
import { EARLY_EXIT_TRICKS, ENDLESS_LOOPS, program, RIGHT_COMPLETION, WRONG_COMPLETION } from "./sandbox-attacks.js";

// The same verdict behaviour is expected of both sandboxes.
describe.each(BOTH_SANDBOXES)("$name sandbox verdicts", ({ open }) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await open();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  test("words verdicts as the reference harness does, in program order", async () => {
    const verdicts = await sandbox.run([
      // Slowest first: it finishes last, yet its verdict must still come first.
      program("right-but-slow", "    import time\n    time.sleep(0.3)\n    return a + b\n"),
      program("wrong", WRONG_COMPLETION),
      program("right", RIGHT_COMPLETION),
      program("name-error", "    return a + c\n"),
      program("syntax-error", "    return a +\n"),
      { id: "assert-with-message", source: "assert 1 == 2, 'one is not two'\n", timeoutSeconds: 3 },
    ]);
    expect(verdicts.map((verdict) => [verdict.id, verdict.result, verdict.passed])).toEqual([
      ["right-but-slow", "passed", true],
      ["wrong", "failed: ", false],
      ["right", "passed", true],
      ["name-error", "failed: name 'c' is not defined", false],
      ["syntax-error", "failed: invalid syntax (<string>, line 3)", false],
      ["assert-with-message", "failed: one is not two", false],
    ]);
    expect(verdicts.map((verdict) => verdict.status)).toEqual(["passed", "failed", "passed", "failed", "failed", "failed"]);
  });

  test("runs numpy, and runs each program in a fresh namespace", async () => {
    const verdicts = await sandbox.run([
      { id: "numpy", source: "import numpy as np\nassert np.array([1, 2, 3]).sum() == 6\n", timeoutSeconds: 10 },
      { id: "sets-global", source: "import builtins\nbuiltins.LEAK = 1\nLEFT = 1\n", timeoutSeconds: 3 },
      { id: "sees-no-global", source: "import builtins\nassert not hasattr(builtins, 'LEAK')\nassert 'LEFT' not in globals()\n", timeoutSeconds: 3 },
    ], { workers: 1 });
    expect(verdicts.map((verdict) => verdict.result)).toEqual(["passed", "passed", "passed"]);
  });

  test("early-exit tricks end as failed, never passed", async () => {
    const tricks = EARLY_EXIT_TRICKS.map((trick) => program(trick.id, trick.completion));
    const verdicts = await sandbox.run([...tricks, program("right-after-tricks", RIGHT_COMPLETION)]);
    const byId = new Map(verdicts.map((verdict) => [verdict.id, verdict]));
    for (const trick of EARLY_EXIT_TRICKS) {
      const verdict = byId.get(trick.id)!;
      expect(verdict.passed, `${trick.id}: ${verdict.result}`).toBe(false);
      expect(verdict.result).toMatch(/^failed: /);
      if (trick.result !== undefined) expect(verdict.result).toBe(trick.result);
    }
    // The runner survived every trick: the honest program after them still gets its pass.
    expect(byId.get("right-after-tricks")?.result).toBe("passed");
  });

  test("endless loops time out, and the batch goes on", async () => {
    const loops = ENDLESS_LOOPS.map((loop) => program(loop.id, loop.completion, 1));
    const verdicts = await sandbox.run([...loops, program("right", RIGHT_COMPLETION)]);
    expect(verdicts.map((verdict) => [verdict.id, verdict.result])).toEqual([
      ...ENDLESS_LOOPS.map((loop) => [loop.id, "timed out"]),
      ["right", "passed"],
    ]);
    expect(verdicts[0]!.status).toBe("timed out");
  });

  test("keeps a few KiB of what a program prints, for feedback", async () => {
    const verdicts = await sandbox.run([
      { id: "prints", source: "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\n", timeoutSeconds: 3 },
      { id: "floods", source: "for i in range(200000):\n    print('x' * 100)\n", timeoutSeconds: 20 },
    ]);
    const [prints, floods] = verdicts as [Verdict, Verdict];
    expect(prints.output).toBe("to stdout\nto stderr\n");
    expect(floods.result).toBe("passed");
    expect(floods.output.length).toBeLessThan(8192);
    expect(floods.output).toContain("[output cut at 4096 bytes]");
  });

  test("programs do not see the caller's environment", async () => {
    process.env.KODERZ_TEST_SECRET = "do-not-leak";
    try {
      const [verdict] = await sandbox.run([
        { id: "env", source: "import os\nprint(sorted(os.environ))\nassert 'KODERZ_TEST_SECRET' not in os.environ\n", timeoutSeconds: 3 },
      ]);
      expect(verdict?.result).toBe("passed");
      expect(verdict?.output).not.toContain("do-not-leak");
    } finally {
      delete process.env.KODERZ_TEST_SECRET;
    }
  });

  test("an aborted batch returns only the verdicts it reached", async () => {
    const controller = new AbortController();
    const programs = Array.from({ length: 6 }, (_, i) => program(`slow-${i}`, "    import time\n    time.sleep(0.5)\n    return a + b\n"));
    const verdicts = await sandbox.run(programs, {
      workers: 1,
      signal: controller.signal,
      onVerdict: () => controller.abort(),
    });
    expect(verdicts.length).toBeGreaterThanOrEqual(1);
    expect(verdicts.length).toBeLessThan(programs.length);
    expect(verdicts.every((verdict) => verdict.result === "passed")).toBe(true);
    expect(verdicts.map((verdict) => verdict.id)).toEqual(programs.slice(0, verdicts.length).map((p) => p.id));
  });
});
