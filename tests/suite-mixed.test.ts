import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessSandbox } from "../sandbox/process-sandbox.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { DEFAULT_TIMEOUT_SECONDS } from "../src/evaluation/program.js";
import { scoreCompletion } from "../src/evaluation/scorers/index.js";
import { loadSuiteDefinition } from "../tasks/suite-file.js";
import type { Task } from "../tasks/task.js";

// The mixed-category suite: at least 40 self-written cases, each with a category, a tier and an
// origin; every reference solution passes its own scorer, and an answer that returns nothing fails every case.
// Its agentic cases (a workspace and the tool-trace scorer) run in suite-agentic-e2e.test.ts.

let sandbox: Sandbox;
let all: Task[];
let tasks: Task[];
beforeAll(async () => {
  sandbox = await ProcessSandbox.open();
  all = (await loadSuiteDefinition("mixed")).tasks;
  tasks = all.filter((task) => !task.workspace);
});
afterAll(async () => {
  await sandbox?.close();
});

/** One case at a time: each scoring is a sandbox batch of its own, and 40 runners at once would crowd a small machine. */
async function gradeAll(completion: (task: Task) => string) {
  const results = [];
  for (const task of tasks) results.push(await scoreCompletion({ task, completion: completion(task), sandbox, timeoutSeconds: task.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS }));
  return results;
}

describe("the mixed suite", () => {
  it("has at least 40 cases across reasoning, math, coding, debugging, stress and agentic, each with a tier", () => {
    expect(all.length).toBeGreaterThanOrEqual(40);
    const counts = new Map<string, number>();
    for (const task of all) counts.set(task.category!, (counts.get(task.category!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["agentic", "coding", "debugging", "math", "reasoning", "stress"]);
    for (const count of counts.values()) expect(count).toBeGreaterThanOrEqual(1);
    for (const task of all) expect(["T1", "T2", "T3"], task.id).toContain(task.tier);
    // At least 4 agentic cases and 2 stress cases of many tool calls, all scored on their tool trace.
    const agentic = all.filter((task) => task.workspace);
    expect(agentic.filter((task) => task.category === "agentic").length).toBeGreaterThanOrEqual(4);
    expect(agentic.filter((task) => task.category === "stress").length).toBeGreaterThanOrEqual(2);
    for (const task of agentic) expect(task.scoring?.scorer, task.id).toBe("tool-trace");
  });

  it("every reference solution passes its scorer", async () => {
    const results = await gradeAll((task) => task.canonicalSolution);
    expect(results.flatMap((result, i) => (result.passed ? [] : [`${tasks[i]!.id}: ${result.verdict}`]))).toEqual([]);
  }, 180_000);

  it("an answer that returns nothing fails every case", async () => {
    const results = await gradeAll(() => "    return None\n");
    expect(results.flatMap((result, i) => (result.passed ? [tasks[i]!.id] : []))).toEqual([]);
  }, 180_000);
});
