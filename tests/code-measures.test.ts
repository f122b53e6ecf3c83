import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { measureCode } from "../src/evaluation/code-measures.js";
import { draftBehaviour } from "../src/evaluation/draft-behaviour.js";
import { measureExperiment } from "../src/evaluation/measure-experiment.js";
import { analyseDrafts } from "../src/store/index.js";
import type { Task } from "../tasks/task.js";

// What the sandbox measures beyond a verdict, on programs whose answer is known by hand: the
// final code's complexity and maintainability, and how deep mode's drafts behave on generated inputs.

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await ProcessSandbox.open();
});
afterAll(async () => {
  await sandbox?.close();
});

const THREE_IFS = `def sign(x):
    """Three ifs: four paths."""
    if x > 0:
        return 1
    if x < 0:
        return -1
    if x == 0:
        return 0
    return None
`;

describe("code measures", () => {
  it("a function with 3 ifs has complexity 4; `and`, comprehensions and nested functions count as McCabe says", async () => {
    const [ifs, straight, mixed] = await measureCode(sandbox, [
      THREE_IFS,
      "def one():\n    return 1\n",
      "def outer(xs):\n    def inner(x):\n        return x > 0 and x < 9\n    return [x for x in xs if inner(x)]\n",
    ]);
    expect(ifs).toMatchObject({ cyclomatic: 4, meanCyclomatic: 4, sloc: 8 });
    expect(straight).toMatchObject({ cyclomatic: 1, sloc: 2 });
    // inner: 1 + and = 2; outer: 1 + for + if = 3 (inner is its own block).
    expect(mixed).toMatchObject({ cyclomatic: 3, meanCyclomatic: 2.5 });
  });

  it("Halstead volume and the maintainability index follow their formulas, and more branching lowers the index", async () => {
    const [straight, ifs] = await measureCode(sandbox, ["def one():\n    return 1\n", THREE_IFS]);
    // def ( ) : return (5 distinct operators) and one, 1 (2 operands): V = 7 log2 7.
    const volume = 7 * Math.log2(7);
    expect(straight).toMatchObject({ halsteadVolume: Number(volume.toFixed(2)) });
    const index = ((171 - 5.2 * Math.log(volume) - 0.23 * 1 - 16.2 * Math.log(2)) * 100) / 171;
    expect(straight).toMatchObject({ maintainability: Number(index.toFixed(2)) });
    expect("maintainability" in ifs! && "maintainability" in straight! && ifs.maintainability < straight.maintainability).toBe(true);
  });

  it("code that does not parse gets its syntax error instead of figures", async () => {
    const [broken] = await measureCode(sandbox, ["def f(:\n    return 1\n"]);
    expect(broken).toEqual({ error: "SyntaxError: invalid syntax (line 1)" });
  });
});

const TASK = { prompt: "", entryPoint: "add", visibleExamples: [{ call: "add(2, 3)", expected: "5" }, { call: "add(-1, 1)", expected: "0" }] };
/** TASK with its hidden test, as a suite loads it. */
const GRADED_TASK: Task = {
  ...TASK,
  id: "measure/add",
  index: 0,
  suite: "measure",
  canonicalSolution: "    return a + b\n",
  visibleExamples: [{ call: "add(2, 3)", expected: "5" }, { call: "add(0, 1)", expected: "1" }],
  hiddenTest: "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-4, 1) == -3\n",
};

describe("drafts' behaviour on generated inputs", () => {
  it("two identical drafts agree on every input; one that differs off the examples agrees on the examples only", async () => {
    const same = "def add(a, b):\n    return a + b\n";
    const renamed = "def add(x, y):\n    total = x\n    total += y\n    return total\n";
    const special = "def add(a, b):\n    if a == 0:\n        return 0\n    return a + b\n";
    const behaviour = (await draftBehaviour(sandbox, TASK, [same, renamed, special]))!;
    expect(behaviour.inputs).toBeGreaterThan(10);
    expect(behaviour.outputs[0]).toEqual(behaviour.outputs[1]);
    expect(behaviour.outputs[2]!.slice(0, 2)).toEqual(behaviour.outputs[0]!.slice(0, 2));
    expect(behaviour.outputs[2]).not.toEqual(behaviour.outputs[0]);
  });

  it("a draft that raises, loops or never defines the function agrees with none on those inputs", async () => {
    const good = "def add(a, b):\n    return a + b\n";
    const raises = "def add(a, b):\n    raise ValueError('no')\n";
    const loops = "def add(a, b):\n    while a < 0:\n        pass\n    return a + b\n";
    const behaviour = (await draftBehaviour(sandbox, TASK, [good, raises, loops, "x = 1\n"]))!;
    expect(new Set(behaviour.outputs[1])).toEqual(new Set(["!ValueError"]));
    expect(behaviour.outputs[2]).toContain("!TimeoutError");
    expect(new Set(behaviour.outputs[3])).toEqual(new Set(["!NameError"]));
  });

  it("without examples: answer() is called once with no arguments; a function that needs arguments is not measured", async () => {
    const answer = { prompt: "", entryPoint: "answer", visibleExamples: [] };
    const answers = (await draftBehaviour(sandbox, answer, ["def answer():\n    return 42\n", "def answer():\n    return 6 * 7\n", "def answer():\n    return 41\n"]))!;
    expect(answers.inputs).toBe(1);
    expect(answers.outputs[0]).toEqual(answers.outputs[1]);
    expect(answers.outputs[2]).not.toEqual(answers.outputs[0]);
    const needsArguments = { prompt: "", entryPoint: "add", visibleExamples: [] };
    expect(await draftBehaviour(sandbox, needsArguments, ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n"])).toBeUndefined();
  });

  it("an experiment with K drafts is measured whole: its final code, its drafts' agreement, and each draft's and the hybrid's hidden verdict", async () => {
    const same = "def add(a, b):\n    return a + b\n";
    const steps = [
      { agent: "Coder", code: same, prompt: "Complete", visiblePassFraction: 1 },
      { agent: "Coder", code: same, prompt: "Complete", visiblePassFraction: 1 },
    ];
    const measures = await measureExperiment({ sandbox, task: GRADED_TASK, completion: same, steps });
    expect(measures.code).toMatchObject({ cyclomatic: 1 });
    expect(analyseDrafts(steps, measures)).toMatchObject({ codeSimilarity: 1, codeConverged: true, behaviourAgreement: 1, behaviourConverged: true });
    expect(measures.draftVerdicts).toEqual({ drafts: [true, true] });
    const single = await measureExperiment({ sandbox, task: GRADED_TASK, completion: same, steps: steps.slice(0, 1) });
    expect(single.drafts).toBeUndefined();
    expect(single.draftVerdicts).toBeUndefined();

    // Both drafts pass the visible examples; only the second passes the hidden test (negative
    // numbers), and the hybrid breaks it again: what the visible figures cannot tell apart.
    const special = "def add(a, b):\n    return abs(a) + b\n";
    const hybridPrompt = "Two candidates passed the most tests. Candidate A: ...";
    const mixed = [
      { agent: "Coder", code: special, prompt: "Complete", visiblePassFraction: 1 },
      { agent: "Coder", code: same, prompt: "Complete", visiblePassFraction: 1 },
      { agent: "Coder", code: special, prompt: hybridPrompt, visiblePassFraction: 1 },
    ];
    const judged = await measureExperiment({ sandbox, task: GRADED_TASK, completion: special, steps: mixed });
    expect(judged.draftVerdicts).toEqual({ drafts: [false, true], hybrid: false });
    expect(analyseDrafts(mixed, judged)).toMatchObject({ bestBeatsFirst: false, hybridGain: 0, verdictBestBeatsFirst: true, verdictHybridGain: -1 });
  });
});
