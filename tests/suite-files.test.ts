import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerSandbox } from "../sandbox/docker-sandbox.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { KoderzError } from "../src/errors.js";
import { scoreCompletion } from "../src/evaluation/scorers/index.js";
import { loadSuite } from "../tasks/load.js";
import { builtInSuiteNames, loadSuiteDefinition } from "../tasks/suite-file.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile, humanEvalPlusFile } from "./fixtures/datasets.js";
import { requireDockerSandbox } from "./helpers/docker.js";

const dir = mkdtempSync(path.join(tmpdir(), "koderz-suites-"));

function suiteFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function failureOf(promise: Promise<unknown>): Promise<KoderzError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KoderzError) return error;
    throw error;
  }
  throw new Error("expected a KoderzError");
}

const GOOD_CASE = `
  - id: add
    category: math
    tier: T1
    prompt: |
      def add():
          """Return 2 + 2."""
    entry_point: add
    answer: 4
`;

describe("suite files", () => {
  it("ships HumanEval, HumanEval+ and the coder rubric as suites", () => {
    expect(builtInSuiteNames()).toEqual(expect.arrayContaining(["humaneval", "humaneval+", "coder-rubric"]));
  });

  it("the HumanEval suites load exactly the dataset's tasks", async () => {
    const plain = await loadSuiteDefinition("humaneval", { dataset: humanEvalFile });
    expect(plain.tasks).toEqual(await loadSuite({ suite: "humaneval", dataset: humanEvalFile }));
    const plus = await loadSuiteDefinition("humaneval+", { dataset: humanEvalPlusFile });
    expect(plus.tasks).toHaveLength(164);
    expect(plus.tasks.every((t) => t.suite === "humaneval+" && t.scoring === undefined)).toBe(true);
  });

  it("loads a user's suite file by path, with categories, tiers and the suite's scorer", async () => {
    const file = suiteFile("mine.yaml", `name: mine\nscorer: match\ncases:${GOOD_CASE}`);
    const suite = await loadSuiteDefinition(file);
    expect(suite.name).toBe("mine");
    expect(suite.tasks[0]).toMatchObject({ id: "mine/add", suite: "mine", category: "math", tier: "T1", scoring: { scorer: "match", answer: 4, match: "exact" } });
  });

  it("a bad field is one usage error naming the file, the case and the field", async () => {
    const file = suiteFile("bad-weight.yaml", `name: bad
scorer: rubric
cases:
  - id: first
    prompt: "def f():\\n    pass\\n"
    entry_point: f
    criteria:
      - name: ok
        weight: 1
        check: assert f() is None
  - id: second
    prompt: "def g():\\n    pass\\n"
    entry_point: g
    criteria:
      - name: broken
        weight: -2
        check: assert g() is None
`);
    const error = await failureOf(loadSuiteDefinition(file));
    expect(error.code).toBe("usage");
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${file}: case "second" (cases[1]), field criteria[0].weight: must be a positive number`);
  });

  it("names a missing field a case's scorer needs, a criterion with two deciders, and a duplicate id", async () => {
    const noAnswer = suiteFile("no-answer.yaml", `name: x\nscorer: match\ncases:\n  - id: q\n    prompt: "def a():\\n    pass\\n"\n    entry_point: a\n`);
    expect((await failureOf(loadSuiteDefinition(noAnswer))).message).toBe(`${noAnswer}: case "q" (cases[0]), field answer: is required by the match scorer`);
    const twoDeciders = suiteFile("two.yaml", `name: x\nscorer: rubric\ncases:\n  - id: q\n    prompt: "def a():\\n    pass\\n"\n    entry_point: a\n    criteria:\n      - {name: c, weight: 1, check: "assert 1", judge: "good?"}\n`);
    expect((await failureOf(loadSuiteDefinition(twoDeciders))).message).toContain(`case "q" (cases[0]), field criteria[0]: needs exactly one of check, program or judge (has check and judge)`);
    const twice = suiteFile("twice.yaml", `name: x\nscorer: match\ncases:${GOOD_CASE}${GOOD_CASE}`);
    expect((await failureOf(loadSuiteDefinition(twice))).message).toBe(`${twice}: case "add" (cases[1]), field id: appears twice in the suite`);
  });

  it("bad YAML, an unknown suite name and a missing file are usage errors that say so", async () => {
    const broken = suiteFile("broken.yaml", "name: [unclosed\n");
    expect((await failureOf(loadSuiteDefinition(broken))).message).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: not valid YAML`));
    const unknown = await failureOf(loadSuiteDefinition("no-such-suite"));
    expect(unknown.code).toBe("usage");
    expect(unknown.hint).toContain("coder-rubric");
    expect((await failureOf(loadSuiteDefinition(path.join(dir, "absent.yaml")))).code).toBe("not_found");
  });
});

describe("the coder rubric suite", () => {
  let sandbox: Sandbox;
  let tasks: Task[];
  beforeAll(async () => {
    // Docker: the concurrent-fetch case serves HTTP on the sandbox's loopback, which the process sandbox's network namespace has down.
    await requireDockerSandbox();
    sandbox = new DockerSandbox();
    tasks = (await loadSuiteDefinition("coder-rubric")).tasks;
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  /** One case at a time, as a benchmark at --concurrency 1 would: the timing criteria must not race ten sandboxes for two cores. */
  async function scoreEach(completion: (task: Task) => string) {
    const results = [];
    for (const task of tasks) results.push(await scoreCompletion({ task, completion: completion(task), sandbox, timeoutSeconds: 5 }));
    return results;
  }

  it("has the ten questions, each with a tier, a category and a reference solution", () => {
    expect(tasks.map((t) => t.id.replace("coder-rubric/", ""))).toEqual([
      "factorial", "reverse-words", "stack", "longest-palindrome", "lru-cache", "ip-address", "merge-intervals-fix", "concurrent-fetch", "token-bucket", "retry-decorator",
    ]);
    expect(new Set(tasks.map((t) => t.tier))).toEqual(new Set(["T1", "T2", "T3"]));
    for (const task of tasks) expect(task.canonicalSolution.length, task.id).toBeGreaterThan(0);
  });

  it("every reference solution meets every executable criterion", async () => {
    const results = await scoreEach((task) => task.canonicalSolution);
    const failing = results.flatMap((result, i) => result.criteria!.filter((c) => c.by !== "judge" && c.value !== 1).map((c) => `${tasks[i]!.id} ${c.name}: ${c.detail}`));
    expect(failing).toEqual([]);
  }, 120_000);

  it("an answer that does nothing meets no executable criterion but the ones a stub cannot miss", async () => {
    const results = await scoreEach(() => "    pass\n");
    for (const [i, result] of results.entries()) {
      expect(result.passed, tasks[i]!.id).toBe(false);
      expect(result.score!, tasks[i]!.id).toBeLessThan(3);
    }
  }, 120_000);
});
