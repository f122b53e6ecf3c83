import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Program, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { verdictProgram } from "../src/evaluation/program.js";
import { BOTH_SANDBOXES } from "./helpers/sandboxes.js";

/**
 * Planned calls: a check that walks a literal list calling the program once per item (HumanEval+'s
 * loop) sends the program the arguments of the calls to come in one message, and reads each
 * answer as the call returns. Every program here runs twice, under that check and under the
 * same check written so that it is not planned (`candidate(*list(inp))`, every call live): the
 * verdicts must be the same, and the program must see the same calls in the same order.
 */
const PROMPT = 'def f(*args):\n    """An answer for each call."""\n';

function check(inputs: string, results: string, call: string, helpers = ""): string {
  return [
    helpers,
    "def check(candidate):",
    `    inputs = ${inputs}`,
    `    results = ${results}`,
    "    for i, (inp, exp) in enumerate(zip(inputs, results)):",
    `        assertion(${call}, exp)`,
    "",
  ].join("\n");
}

const ASSERTION = "def assertion(out, exp):\n    assert out == exp, f'{out!r} != {exp!r}'\n";

/** A program (the body of f and what comes after it) with the inputs and results its check walks. */
interface Case {
  id: string;
  completion: string;
  inputs: string;
  results: string;
  helpers?: string;
  timeoutSeconds?: number;
}

const CASES: Case[] = [
  {
    id: "stateful",
    completion: "    calls.append(args[0])\n    return len(calls) * args[0]\ncalls = []\n",
    inputs: "[[1], [2], [2], [5]]",
    results: "[1, 4, 6, 20]",
  },
  {
    id: "differs-on-a-repeated-call",
    completion: "    if args in seen:\n        return -args[0]\n    seen.add(args)\n    return args[0]\nseen = set()\n",
    inputs: "[[1], [2], [1], [1]]",
    results: "[1, 2, -1, -1]",
  },
  {
    id: "raises-mid-batch",
    completion: "    if args[0] == 3:\n        raise ValueError('three is right out')\n    return args[0]\n",
    inputs: "[[1], [2], [3], [4]]",
    results: "[1, 2, 3, 4]",
  },
  {
    id: "wrong-mid-batch",
    completion: "    return -1 if args[0] == 3 else args[0]\n",
    inputs: "[[1], [2], [3], [4]]",
    results: "[1, 2, 3, 4]",
  },
  {
    id: "times-out-mid-batch",
    completion: "    while args[0] == 3:\n        pass\n    return args[0]\n",
    inputs: "[[1], [2], [3], [4]]",
    results: "[1, 2, 3, 4]",
    timeoutSeconds: 1,
  },
  {
    // Decided by the wrong answer to the second call, however long the third would take.
    id: "wrong-then-endless",
    completion: "    if args[0] == 2:\n        return -2\n    while args[0] == 3:\n        pass\n    return args[0]\n",
    inputs: "[[1], [2], [3], [4]]",
    results: "[1, 2, 3, 4]",
    timeoutSeconds: 20,
  },
  {
    // An answer that stays in the program (a handle) is used by the check before the next call:
    // its length is the number of calls made so far, 2 when it is asked, as the live calls have it.
    id: "handle-mid-batch",
    completion: "    calls.append(args)\n    return Calls() if args[0] == 2 else args[0]\ncalls = []\nclass Calls:\n    def __len__(self):\n        return len(calls)\n",
    inputs: "[[1], [2], [3]]",
    results: "[1, 2, 3]",
    helpers: "def assertion(out, exp):\n    assert (out if type(out) is int else len(out)) == exp\n",
  },
  {
    // Runs of ints and floats cross as raw numbers, and each item keeps its type and value.
    id: "ints-and-floats",
    completion: [
      "    if args[0] == 1:",
      "        return [1, 3] + [i / 2 for i in range(100)] + [2 ** 70, 5] + [float('inf')] * 70 + [7] * 70",
      "    return [2 ** 70] * 70 + [1.5] * 70 + [-0.0]",
    ].join("\n") + "\n",
    inputs: "[[1], [2]]",
    results: "[[1, 3] + [i / 2 for i in range(100)] + [2 ** 70, 5] + [float('inf')] * 70 + [7] * 70, [2 ** 70] * 70 + [1.5] * 70 + [-0.0]]",
    helpers: "def assertion(out, exp):\n    assert out == exp and [type(x) for x in out] == [type(x) for x in exp] and str(out[-1]) == str(exp[-1])\n",
  },
];

function casePrograms(item: Case): [Program, Program] {
  const helpers = item.helpers ?? ASSERTION;
  const make = (id: string, call: string): Program => ({
    id,
    ...verdictProgram({ prompt: PROMPT, entryPoint: "f", hiddenTest: check(item.inputs, item.results, call, helpers) }, item.completion),
    timeoutSeconds: item.timeoutSeconds ?? 3,
  });
  return [make(`${item.id}/planned`, "candidate(*inp)"), make(`${item.id}/live`, "candidate(*list(inp))")];
}

/**
 * A program that tells whether it holds the arguments of calls to come (the list of all three
 * argument lists): it does under a planned check, never under a check that must make its calls live.
 */
const SEER = "    import gc\n    return any(type(o) is list and o == [[1], [2], [3]] for o in gc.get_objects())\n";
const SEER_INPUTS = "inputs = [[1], [2], [3]]";

/** Checks whose loops must not be planned: the calls they make are not known before the loop. */
const LIVE_CHECKS: { id: string; body: string[] }[] = [
  { id: "conditional-call", body: ["for i, inp in enumerate(inputs):", "    assert i == 5 or candidate(*inp) is False"] },
  { id: "statement-in-if", body: ["for i, inp in enumerate(inputs):", "    if i >= 0:", "        assert candidate(*inp) is False"] },
  { id: "candidate-escapes", body: ["again = candidate", "for inp in inputs:", "    assert candidate(*inp) is False"] },
  { id: "inputs-changed-in-loop", body: ["for inp in inputs:", "    assert candidate(*inp) is False or inputs.pop()"] },
  { id: "reaches-names-indirectly", body: ["for inp in inputs:", "    assert candidate(*inp) is getattr(False, 'no_such_name', False)"] },
  { id: "loop-in-try", body: ["try:", "    for inp in inputs:", "        assert candidate(*inp) is False", "except ZeroDivisionError:", "    pass"] },
];

describe.each(BOTH_SANDBOXES)("$name sandbox: planned calls", ({ open }) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await open();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  test("a planned check gives every program the verdict its live calls give", async () => {
    const verdicts = new Map((await sandbox.run(CASES.flatMap(casePrograms))).map((verdict): [string, Verdict] => [verdict.id, verdict]));
    const result = (id: string): string => verdicts.get(id)!.result;
    for (const item of CASES) expect(result(`${item.id}/planned`), item.id).toBe(result(`${item.id}/live`));
    expect(result("stateful/planned")).toBe("passed");
    expect(result("differs-on-a-repeated-call/planned")).toBe("passed");
    expect(result("raises-mid-batch/planned")).toBe("failed: three is right out");
    expect(result("wrong-mid-batch/planned")).toBe("failed: -1 != 3");
    expect(result("times-out-mid-batch/planned")).toBe("timed out");
    expect(result("wrong-then-endless/planned")).toBe("failed: -2 != 2");
    expect(result("handle-mid-batch/planned")).toBe("passed");
    expect(result("ints-and-floats/planned")).toBe("passed");
  });

  test("only a loop whose calls are known before it starts is planned", async () => {
    const seer = (id: string, body: string[]): Program => ({
      id,
      ...verdictProgram(
        { prompt: PROMPT, entryPoint: "f", hiddenTest: ["def check(candidate):", `    ${SEER_INPUTS}`, ...body.map((line) => `    ${line}`), ""].join("\n") },
        SEER,
      ),
      timeoutSeconds: 10,
    });
    const planned = seer("planned", ["for inp in inputs:", "    assert candidate(*inp) is True"]);
    const verdicts = await sandbox.run([planned, ...LIVE_CHECKS.map((item) => seer(item.id, item.body))]);
    // Under the planned loop the program holds all three argument lists; under each other one, it never does.
    expect(verdicts.map((verdict) => [verdict.id, verdict.result])).toEqual([["planned", "passed"], ...LIVE_CHECKS.map((item) => [item.id, "passed"])]);
  });
});
