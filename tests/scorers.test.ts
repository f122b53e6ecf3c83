import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { ChatRequest, ChatResponse, ModelBackend } from "../src/llm/types.js";
import { readJudgeVerdict } from "../src/evaluation/scorers/judge-verdict.js";
import { rubricScale } from "../src/evaluation/scorers/rubric.js";
import { scoreCompletion, scorerFor } from "../src/evaluation/scorers/index.js";
import { loadSuite } from "../tasks/load.js";
import type { Criterion } from "../tasks/suite-schema.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile } from "./fixtures/datasets.js";

// Each scorer on a known-good and a known-bad answer, in the process sandbox (the coder rubric
// suite's own cases, which need Docker for their local server, are in suite-coder-rubric.test.ts).

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await ProcessSandbox.open();
});
afterAll(async () => {
  await sandbox?.close();
});

function caseTask(fields: Partial<Task> & Pick<Task, "prompt" | "entryPoint" | "scoring">): Task {
  return { id: "t/1", index: 0, suite: "t", canonicalSolution: "", visibleExamples: [], hiddenTest: "", ...fields };
}

const score = (task: Task, completion: string, judge?: ModelBackend) => scoreCompletion({ task, completion, sandbox, timeoutSeconds: 5, judge });

describe("tests scorer", () => {
  it("gives HumanEval's verdict: the canonical solution passes, a wrong one fails", async () => {
    const [task] = await loadSuite({ suite: "humaneval", dataset: humanEvalFile });
    expect(scorerFor(task!).name).toBe("tests");
    expect(await score(task!, task!.canonicalSolution)).toMatchObject({ passed: true, verdict: "passed", calls: [] });
    const wrong = await score(task!, "    return not True\n");
    expect(wrong.passed).toBe(false);
    expect(wrong.verdict).toMatch(/^failed/);
  });
});

describe("match scorer", () => {
  const stub = "def answer():\n";
  const matchTask = (answer: string | number, match: "exact" | "normalised" | "numeric", tolerance = 1e-6) =>
    caseTask({ prompt: stub, entryPoint: "answer", scoring: { scorer: "match", answer, match, tolerance } });

  it("exact: the same value passes; the same digits as text do not", async () => {
    expect((await score(matchTask(42, "exact"), "    return 42\n")).passed).toBe(true);
    const text = await score(matchTask(42, "exact"), "    return '42'\n");
    expect(text.passed).toBe(false);
    expect(text.verdict).toContain("answered '42', expected 42");
  });

  it("normalised: case, spacing and a final period do not matter; other words do", async () => {
    expect((await score(matchTask("Alice owns the cat", "normalised"), "    return '  alice   OWNS the cat.'\n")).passed).toBe(true);
    expect((await score(matchTask("Alice owns the cat", "normalised"), "    return 'Bob owns the cat'\n")).passed).toBe(false);
  });

  it("numeric: within the tolerance passes (numeric strings too); outside it, or not a number, fails", async () => {
    expect((await score(matchTask(3.14159, "numeric", 0.001), "    return 3.1418\n")).passed).toBe(true);
    expect((await score(matchTask(3.14159, "numeric", 0.001), "    return '3.1412'\n")).passed).toBe(true);
    expect((await score(matchTask(3.14159, "numeric", 0.001), "    return 3.15\n")).passed).toBe(false);
    expect((await score(matchTask(3.14159, "numeric", 0.001), "    return 'pi'\n")).passed).toBe(false);
    expect((await score(matchTask(1, "numeric"), "    return True\n")).passed).toBe(false);
  });

  it("decides in the judge: a program that prints or exits cannot claim the match", async () => {
    const exits = await score(matchTask(7, "exact"), "    return 7\nimport os\nos._exit(0)\n");
    expect(exits.passed).toBe(false);
  });
});

/** A judge for unit tests: answers every request with the given text, and counts its calls. */
function cannedJudge(text: string): ModelBackend & { requests: ChatRequest[] } {
  const requests: ChatRequest[] = [];
  return {
    model: "judge-fixture",
    requests,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      requests.push(request);
      return { text, toolCalls: [], usage: { input: 100, output: 20 }, latencyMs: 1, model: "judge-fixture", costUsd: 0.001, cached: false };
    },
    async preflight() {},
  };
}

describe("rubric scorer", () => {
  const criteria: Criterion[] = [
    { name: "correct", weight: 3, check: "assert double(2) == 4\nassert double(-1) == -2" },
    { name: "type hints", weight: 1, check: "import ast\nf = [n for n in ast.walk(ast.parse(__source__)) if isinstance(n, ast.FunctionDef)][-1]\nassert f.returns is not None" },
    { name: "self-check", weight: 1, program: "assert double(3) == 6" },
    { name: "readable", weight: 1, judge: "Is it readable?" },
  ];
  const task = caseTask({ prompt: "def double(x):\n    \"\"\"Twice x.\"\"\"\n", entryPoint: "double", scoring: { scorer: "rubric", criteria, passScore: 4 } });
  const good = "    return 2 * x\n\ndef double(x: int) -> int:\n    return 2 * x\n";
  const bad = "    return x + 1\n";
  const judgeSays = (score: number) => JSON.stringify({ criteria: [{ name: "readable", score, reason: "fixture" }] });

  it("a good answer scores 5 with every criterion met, and the judge call is returned for the record", async () => {
    const judge = cannedJudge(judgeSays(5));
    const result = await score(task, good, judge);
    expect(result.score).toBe(5);
    expect(result.passed).toBe(true);
    expect(result.criteria!.map((c) => [c.name, c.by, c.value])).toEqual([
      ["correct", "check", 1],
      ["type hints", "check", 1],
      ["self-check", "program", 1],
      ["readable", "judge", 1],
    ]);
    expect(result.calls).toHaveLength(1);
    expect(result.calls[0]!.response.costUsd).toBe(0.001);
    expect(judge.requests[0]!.responseSchema).toBeDefined();
  });

  it("a bad answer scores low and fails, whatever the judge says", async () => {
    const result = await score(task, bad, cannedJudge(judgeSays(5)));
    // Only the judged criterion (weight 1 of 6) holds: 1 + 4 * 1/6.
    expect(result.score).toBeCloseTo(1.67, 2);
    expect(result.passed).toBe(false);
    expect(result.verdict).toMatch(/^rubric 1\.67\/5 \(needs 4\)/);
  });

  it("an off-scale judge score is an error, counts 0 and cannot pass even when everything else holds", async () => {
    const result = await score(task, good, cannedJudge(judgeSays(7)));
    expect(result.passed).toBe(false);
    expect(result.score).toBeCloseTo(1 + (4 * 5) / 6, 2);
    expect(result.criteria![3]!.error).toContain("must be 1 to 5");
    expect(result.verdict).toContain("undecided: readable: the judge's answer does not fit the verdict format at criteria.0.score: must be 1 to 5");
  });

  it("a malformed judge answer is an error naming what is wrong, and not a pass", async () => {
    const prose = await score(task, good, cannedJudge("Looks great, 5/5!"));
    expect(prose.passed).toBe(false);
    expect(prose.criteria![3]!.error).toMatch(/not JSON/);
    const missing = await score(task, good, cannedJudge(JSON.stringify({ criteria: [] })));
    expect(missing.passed).toBe(false);
    expect(missing.criteria![3]!.error).toBe('the judge\'s answer has no score for "readable"');
  });

  it("maps the weighted mean linearly onto 1-5", () => {
    expect(rubricScale([{ weight: 1, value: 0 }])).toBe(1);
    expect(rubricScale([{ weight: 1, value: 1 }])).toBe(5);
    expect(rubricScale([{ weight: 3, value: 1 }, { weight: 1, value: 0 }])).toBe(4);
    expect(rubricScale([{ weight: 1, value: 0.5 }])).toBe(3);
  });

  it("reads a fenced JSON verdict, and refuses fractional scores", () => {
    const fenced = readJudgeVerdict('```json\n{"criteria":[{"name":"a","score":4,"reason":"ok"}]}\n```', ["a"]);
    expect(fenced.ok && fenced.scores.get("a")).toEqual({ score: 4, reason: "ok" });
    const fraction = readJudgeVerdict('{"criteria":[{"name":"a","score":4.5,"reason":"ok"}]}', ["a"]);
    expect(fraction.ok).toBe(false);
  });
});
