import { readFileSync } from "node:fs";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { referenceProgram } from "../src/evaluation/program.js";
import { sanitizeCompletions, sanitizeCompletion } from "../src/evaluation/sanitize.js";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { gpt4ReflexionSamples, gpt4ZeroShotSamples, humanEvalFile } from "./fixtures/datasets.js";
import { runReferenceHarness, sharedReferenceVerdicts } from "./fixtures/reference-oracle.js";

const FENCE = "```";
const prompt = 'from typing import List\n\n\ndef add(xs: List[int], y: int) -> List[int]:\n    """ Add y to each element.\n    >>> add([1], 2)\n    [3]\n    """\n';
const task = { prompt, entryPoint: "add" };

/** Runs prompt + each completion + a check through the reference harness semantics: passed or not, in order. */
async function work(completions: readonly string[]): Promise<boolean[]> {
  const test = "def check(candidate):\n    assert candidate([1, 2], 3) == [4, 5]\n    assert candidate([], 1) == []\n";
  const programs = completions.map((completion, i) => ({ id: String(i), source: referenceProgram({ ...task, hiddenTest: test }, completion), timeoutSeconds: 3 }));
  return (await runReferenceHarness(programs)).map((verdict) => verdict.passed);
}

describe("sanitizing chat-style answers", () => {
  const cases: [string, string, (completion: string) => void][] = [
    [
      "prose around one python fence",
      `Sure! Here is the implementation:\n\n${FENCE}python\nfrom typing import List\n\ndef add(xs: List[int], y: int) -> List[int]:\n    return [x + y for x in xs]\n${FENCE}\n\nIt uses a list comprehension, so it runs in O(n).`,
      (c) => expect(c).not.toMatch(/Sure|comprehension, so/),
    ],
    [
      "a solution fence with a helper, then a usage fence",
      `${FENCE}python\ndef add(xs, y):\n    return [helper(x, y) for x in xs]\n\ndef helper(a, b):\n    return a + b\n${FENCE}\nExample:\n${FENCE}python\nprint(add([1, 2], 3))  # [4, 5]\nassert add([], 1) == [1]\n${FENCE}`,
      (c) => {
        expect(c).toContain("def helper(a, b):");
        expect(c).not.toMatch(/print|assert/);
      },
    ],
    [
      "a main guard running doctests and prints",
      "import math\n\ndef add(xs, y):\n    return [x + y for x in xs]\n\nif __name__ == '__main__':\n    import doctest\n    doctest.testmod()\n    print(add([1], 2))\n",
      (c) => {
        expect(c).toContain("import math");
        expect(c).not.toContain("__main__");
      },
    ],
    ["a body in a fence", `${FENCE}python\n    return [x + y for x in xs]\n${FENCE}`, (c) => expect(c).toBe("    return [x + y for x in xs]")],
    ["a body whose first line lost its indentation", "out = []\n    for x in xs:\n        out.append(x + y)\n    return out", (c) => expect(c.startsWith("    out = []")).toBe(true)],
    ["a one-line body at column 0", "return [x + y for x in xs]", (c) => expect(c).toBe("    return [x + y for x in xs]")],
    ["code among prose, no fences", "Here is the code:\n\ndef add(xs, y):\n    return [x + y for x in xs]\n\nIt adds y to every element of the list.", (c) => expect(c).not.toContain("Here is")],
    [
      "a wrong self-test the answer runs at import",
      "def add(xs, y):\n    return [x + y for x in xs]\n\ndef test_add():\n    assert add([1], 2) == [4]\n\ntest_add()\n",
      (c) => expect(c).not.toMatch(/^test_add\(\)/m),
    ],
    [
      "a fenced block indented as a whole (inside a markdown list)",
      `1. Define the function:\n\n    ${FENCE}python\n    def add(xs, y):\n        return [x + y for x in xs]\n    ${FENCE}\n`,
      (c) => expect(c).toMatch(/^def add/m),
    ],
    ["a fence cut off before its end", `${FENCE}python\ndef add(xs, y):\n    return [x + y for x in xs]\n`, () => undefined],
    [
      "pytest tests (pytest is not in the sandbox)",
      "import pytest\n\ndef add(xs, y):\n    return [x + y for x in xs]\n\n@pytest.mark.parametrize('a', [1])\ndef test_a(a):\n    assert add([a], 1) == [a + 1]\n",
      (c) => expect(c).not.toContain("pytest"),
    ],
    ["from __future__ imports (legal only at the top of a file)", "from __future__ import annotations\n\ndef add(xs: list[int], y: int) -> list[int]:\n    return [x + y for x in xs]\n", (c) => expect(c).not.toContain("__future__")],
    ["a script reading stdin", "def add(xs, y):\n    return [x + y for x in xs]\n\nn = int(input())\nprint(add([n], 1))\n", (c) => expect(c).not.toContain("input")],
    [
      "a body followed by a module-level helper and a demo print",
      "    return [inc(x, y) for x in xs]\n\n\ndef inc(a, b):\n    return a + b\n\nprint(add([1], 2))\n",
      (c) => {
        expect(c).toContain("def inc(a, b):");
        expect(c).not.toContain("print");
      },
    ],
    [
      "an initialiser the solution needs (kept: it is not a demo)",
      "TABLE = {}\n\ndef build():\n    for i in range(10):\n        TABLE[i] = i\n\nbuild()\n\ndef add(xs, y):\n    return [TABLE.get(x, x) + y for x in xs]\n",
      (c) => expect(c).toMatch(/^build\(\)$/m),
    ],
    ["Windows line endings", `${FENCE}python\r\ndef add(xs, y):\r\n    return [x + y for x in xs]\r\n${FENCE}\r\n`, () => undefined],
  ];

  // One sanitizer process and one harness run for all cases; each case then checks its own result.
  let completions: string[];
  let verdicts: boolean[];
  beforeAll(async () => {
    completions = (await sanitizeCompletions(cases.map(([, output]) => ({ ...task, output })))).map((r) => r.completion);
    verdicts = await work(completions);
  });

  it.each(cases.map((c, i) => [...c, i] as const))("%s", (_name, _answer, inspect, i) => {
    inspect(completions[i]!);
    expect(verdicts[i], completions[i]).toBe(true);
  });

  it("leaves an answer with no code unchanged (never worse than the raw answer)", async () => {
    expect(await sanitizeCompletion("I cannot help with that.", task)).toBe("I cannot help with that.");
  });

  it("starts its python3 again when it died between answers (killed, say), and still sanitizes", async () => {
    const answer = `${FENCE}python\ndef add(xs, y):\n    return [x + y for x in xs]\n${FENCE}`;
    const first = await sanitizeCompletion(answer, task);
    const running = await execa("pgrep", ["-P", String(process.pid), "-f", "sanitize.py --serve"], { reject: false });
    const pids = running.stdout.split("\n").filter(Boolean).map(Number);
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sanitizeCompletion(answer, task)).toBe(first);
    expect(first).not.toContain(FENCE);
  });

  it("keeps multi-line strings of a whole-function answer exactly as written", async () => {
    const answer = 'def add(xs, y):\n    note = """line one\n  line two"""\n    return [x + y for x in xs]\n';
    expect(await sanitizeCompletion(answer, task)).toBe(answer);
  });

  it("says how it read each answer", async () => {
    const [fenced, body] = await sanitizeCompletions([
      { ...task, output: `${FENCE}python\ndef add(xs, y):\n    return xs\n${FENCE}` },
      { ...task, output: "    return xs\n" },
    ]);
    expect(fenced!.how).toBe("fenced, whole function");
    expect(body!.how).toBe("as-is, body");
  });
});

describe("sanitizing the real GPT-4 samples", () => {
  let tasks: Map<string, Task>;
  const read = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task_id: string; completion: string });

  beforeAll(async () => {
    tasks = new Map((await loadSuiteFile(humanEvalFile, "humaneval")).map((t) => [t.id, t]));
  });

  /** Reference-harness verdicts, in order, of each sample's program with the given completion. */
  async function verdicts(samples: readonly { task_id: string }[], completions: readonly string[]): Promise<boolean[]> {
    const results = await sharedReferenceVerdicts(
      samples.map((s, i) => ({ id: String(i), source: referenceProgram(tasks.get(s.task_id)!, completions[i]!), timeoutSeconds: 3 })),
    );
    return results.map((v) => v.passed);
  }

  /** Chat-style wrappings of a reference-format completion, as a chat model would write it. */
  function chatStyle(completion: string, i: number, t: Task): string {
    const code = completion.replace(/^\n+/, "").trimEnd();
    const example = t.visibleExamples[0];
    const styles = [
      () => `Here is a solution:\n\n${FENCE}python\n${code}\n${FENCE}\n\nThis handles the edge cases described in the docstring.`,
      () => `${FENCE}python\n${code}\n${FENCE}\n` + (example ? `\nExample usage:\n${FENCE}python\nprint(${example.call})\n${FENCE}\n` : ""),
      () => `${code}\n\nif __name__ == "__main__":\n    import doctest\n    doctest.testmod()\n`,
      () => `Sure! Let me think about it step by step.\n\n${code}\n\nThe function above returns the expected result.`,
      () => `${code}\n\n# quick check\n` + (example ? `assert ${example.call} == ${example.expected}\n` : "print('ok')\n"),
    ];
    return styles[i % styles.length]!();
  }

  for (const [name, file] of [
    ["zero-shot (whole functions)", gpt4ZeroShotSamples],
    ["reflexion (bodies)", gpt4ReflexionSamples],
  ] as const) {
    it(`never turns a passing ${name} sample into a failure, as given or wrapped as a chat answer`, async () => {
      const samples = read(file);
      const raw = await verdicts(samples, samples.map((s) => s.completion));
      // Only a sample that passed as given can be broken; a completion the sanitizer left unchanged
      // is the same program with the same verdict, so only changed ones run again.
      const passing = samples.filter((_, i) => raw[i]);
      const sanitized = await sanitizeCompletions(passing.map((s) => ({ ...tasks.get(s.task_id)!, output: s.completion })));
      const isBody = (s: { completion: string }) => /^[ \t]/.test(s.completion);
      const wrapped = await sanitizeCompletions(
        passing.map((s, i) => {
          const t = tasks.get(s.task_id)!;
          // Bodies go in a fence or lose their first indentation, as chat answers often do.
          const output = isBody(s) ? (i % 2 ? `${FENCE}python\n${s.completion}\n${FENCE}` : `Here:\n${FENCE}\n${s.completion.trimStart()}\n${FENCE}`) : chatStyle(s.completion, i, t);
          return { ...t, output };
        }),
      );
      const changedAt = passing.flatMap((s, i) => (sanitized[i]!.completion !== s.completion ? [i] : []));
      const changed = changedAt.map((i) => passing[i]!);
      // Likewise a wrapped answer the sanitizer turned back into the completion as given, up to
      // blank lines before it and whitespace after it (the same Python program).
      const bare = (completion: string) => completion.replace(/^\n+/, "").trimEnd();
      const newWrappedAt = passing.flatMap((s, i) => (bare(wrapped[i]!.completion) !== bare(s.completion) ? [i] : []));
      // One harness run for both: the changed sanitized completions, then the changed wrapped ones.
      const after = await verdicts(
        [...changed, ...newWrappedAt.map((i) => passing[i]!)],
        [...changedAt.map((i) => sanitized[i]!.completion), ...newWrappedAt.map((i) => wrapped[i]!.completion)],
      );
      const broken = changed.filter((_, i) => !after[i]).map((s) => s.task_id);
      const brokenWrapped = newWrappedAt.filter((_, k) => !after[changed.length + k]).map((i) => passing[i]!.task_id);
      console.log(
        `${name}: passed raw ${passing.length}/${samples.length}; the sanitizer changed ${changed.length} of them and broke ${broken.length}; ` +
          `chat-wrapped then sanitized, ${passing.length - brokenWrapped.length} still pass (${passing.length - newWrappedAt.length} came back as given)`,
      );
      expect(broken).toEqual([]);
      expect(brokenWrapped).toEqual([]);
    });
  }
});
