import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { KoderzError } from "../src/errors.js";
import { scoreCompletion, type TracedToolCall } from "../src/evaluation/scorers/index.js";
import type { EndState } from "../src/evaluation/scorers/scorer.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import { loadSuiteDefinition } from "../tasks/suite-file.js";
import type { EndStateCheck, TraceCheck } from "../tasks/suite-schema.js";
import type { Task } from "../tasks/task.js";

// The tool-trace scorer on a known-good and a known-bad end state and trace. The end state is a
// folder on this machine read and run with a real shell (the benchmark gives the scorer the
// workspace container; suite-agentic-e2e.test.ts runs that path), and bad agentic case files are
// refused naming the file, the case and the field.

/** A folder as the scorer's end state: its files, and sh -c commands run in it. */
function folderEndState(dir: string): EndState {
  return {
    async readFile(relative) {
      const file = path.join(dir, relative);
      return existsSync(file) ? readFileSync(file, "utf8") : undefined;
    },
    async exec(argv, options) {
      const run = await execa(argv[0]!, argv.slice(1), { cwd: dir, reject: false, timeout: (options?.timeoutSeconds ?? 30) * 1000 });
      return { exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr), timedOut: run.timedOut };
    },
  };
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "koderz-trace-"));
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
    writeFileSync(path.join(dir, relative), text);
  }
  return dir;
}

function agenticTask(endState: EndStateCheck[], trace: TraceCheck[], passScore = 5): Task {
  return {
    id: "t/agentic",
    index: 0,
    suite: "t",
    prompt: "fix it",
    entryPoint: "",
    canonicalSolution: "",
    visibleExamples: [],
    hiddenTest: "",
    scoring: { scorer: "tool-trace", endState, trace, passScore },
    workspace: { files: {}, maxToolCalls: 60 },
  };
}

const call = (tool: string, args: Record<string, unknown> = {}, isError = false): TracedToolCall => ({ agent: "Coder", tool, arguments: JSON.stringify(args), isError });

// The scorer never runs programs in the sandbox; a sandbox that refuses proves it.
const noSandbox: Sandbox = {
  run: () => Promise.reject(new Error("the tool-trace scorer must not use the sandbox")),
  close: () => Promise.resolve(),
} as unknown as Sandbox;

const score = (task: Task, dir: string, toolCalls: TracedToolCall[]) => scoreCompletion({ task, completion: "", sandbox: noSandbox, timeoutSeconds: 5, agentic: { workspace: folderEndState(dir), toolCalls } });

describe("tool-trace scorer", () => {
  const endState: EndStateCheck[] = [
    { file: "calc.py", contains: "/ len(values)", not_contains: "- 1)", weight: 2 },
    { command: "python3 -c 'from calc import mean; print(mean([2, 4]))'", output_contains: "3.0", weight: 2 },
    { file: "notes.txt", exists: false },
    { file: "VERSION", equals: "1.0\n" },
  ];
  const trace: TraceCheck[] = [
    { tool: "edit", with: "test_", at_most: 0 },
    { tool: "run_tests" },
    { order: ["read_file", "edit"] },
    { max_calls: 4 },
  ];
  const good = () => folder({ "calc.py": "def mean(values):\n    return sum(values) / len(values)\n", VERSION: "1.0\n" });
  const goodCalls = [call("read_file", { path: "calc.py" }), call("edit", { path: "calc.py" }), call("run_tests")];

  it("a known-good end state and trace pass with 5/5", async () => {
    const result = await score(agenticTask(endState, trace), good(), goodCalls);
    expect(result).toMatchObject({ passed: true, score: 5, calls: [] });
    expect(result.verdict).toBe("tool-trace 5.00/5 (pass 5), 3 tool calls");
    expect(result.criteria!.map((c) => [c.by, c.value])).toEqual([...endState.map(() => ["end-state", 1]), ...trace.map(() => ["trace", 1])]);
  });

  it("a known-bad one fails, names each check not met and why, and weighs the rest", async () => {
    const bad = folder({ "calc.py": "def mean(values):\n    return sum(values) / (len(values) - 1)\n", "notes.txt": "scratch", VERSION: "1.0" });
    const calls = [call("edit", { path: "test_calc.py" }), call("read_file", { path: "calc.py" }), call("edit", { path: "calc.py" }, true), call("run", { command: "ls" }), call("list_files")];
    const result = await score(agenticTask(endState, trace), bad, calls);
    expect(result.passed).toBe(false);
    const notMet = Object.fromEntries(result.criteria!.filter((c) => c.value === 0).map((c) => [c.name, c.detail]));
    expect(notMet).toEqual({
      'file calc.py contains "/ len(values)" and lacks "- 1)"': '"/ len(values)" is not in it',
      "`python3 -c 'from calc import mean; print(mean([2, 4]))'` exits 0 printing \"3.0\"": "output lacks it: 6.0",
      "file notes.txt does not exist": "it exists",
      "file VERSION has the expected text": "its text differs (3 characters, expected 4)",
      'edit with "test_" never called': "1 call",
      "run_tests called 1+ times": "0 calls",
      "first calls in order read_file < edit": "read_file first at call 2, edit first at call 1",
      "at most 4 tool calls": "5 made",
    });
    expect(result.score).toBe(1);
    expect(result.verdict).toMatch(/^tool-trace 1\.00\/5 \(needs 5\), 5 tool calls; not met: file calc\.py/);
  });

  it("weights decide the score, and a pass score below 5 accepts a run that misses a light check", async () => {
    const heavyOnly: EndStateCheck[] = [{ file: "calc.py", contains: "/ len(values)", weight: 3 }];
    const result = await score(agenticTask(heavyOnly, [{ max_calls: 2 }], 4), good(), goodCalls);
    // 3 of 4 weight holds: 1 + 4 * 3/4 = 4.
    expect(result).toMatchObject({ passed: true, score: 4 });
    expect((await score(agenticTask(heavyOnly, [{ max_calls: 2 }]), good(), goodCalls)).passed).toBe(false);
  });

  it("a command that exits otherwise, or runs too long, does not hold", async () => {
    const dir = good();
    const result = await score(agenticTask([{ command: "exit 3" }, { command: "exit 3", exit_code: 3 }, { command: "sleep 5", timeout: 1 }], []), dir, []);
    expect(result.criteria!.map((c) => [c.value, c.detail])).toEqual([
      [0, "exit 3"],
      [1, "exit 3"],
      [0, "timed out after 1 s"],
    ]);
  });
});

describe("agentic case files", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "koderz-agentic-suite-"));
  });

  async function refusal(name: string, cases: string): Promise<string> {
    const file = path.join(dir, name);
    writeFileSync(file, `name: x\ncases:\n${cases}`);
    const error = await loadSuiteDefinition(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KoderzError);
    expect((error as KoderzError).exitCode).toBe(2);
    return (error as KoderzError).message.replace(`${file}: `, "");
  }

  const head = "  - id: w\n    goal: tidy up\n    workspace: { a.py: 'x = 1' }\n    scorer: tool-trace\n";

  it("load as tasks with their workspace, goal and checks", async () => {
    const file = path.join(dir, "good.yaml");
    writeFileSync(file, `name: x\ncases:\n${head}    test_command: python3 a.py\n    category: agentic\n    tier: T1\n    end_state: [{ command: python3 a.py }]\n    trace: [{ tool: edit, at_most: 2 }]\n`);
    const [task] = (await loadSuiteDefinition(file)).tasks;
    expect(task).toMatchObject({
      id: "x/w",
      prompt: "tidy up",
      category: "agentic",
      workspace: { files: { "a.py": "x = 1" }, testCommand: "python3 a.py", maxToolCalls: 60 },
      scoring: { scorer: "tool-trace", endState: [{ command: "python3 a.py" }], trace: [{ tool: "edit", at_most: 2 }], passScore: 5 },
    });
  });

  it("name the file, the case and the field of what is wrong", async () => {
    expect(await refusal("both.yaml", `${head}    end_state: [{ file: a.py, command: ls }]\n`)).toBe('case "w" (cases[0]), field end_state[0]: needs exactly one of file or command');
    expect(await refusal("mixed-kinds.yaml", `${head}    end_state: [{ file: a.py, exit_code: 1 }]\n`)).toBe('case "w" (cases[0]), field end_state[0].exit_code: belongs to a command check, not a file check');
    expect(await refusal("order.yaml", `${head}    trace: [{ order: [edit] }]\n`)).toBe('case "w" (cases[0]), field trace[0].order: needs at least two tools');
    expect(await refusal("bounds.yaml", `${head}    trace: [{ tool: edit, at_least: 3, at_most: 1 }]\n`)).toBe('case "w" (cases[0]), field trace[0].at_least: is larger than at_most');
    expect(await refusal("escape.yaml", "  - id: w\n    goal: g\n    workspace: { ../a.py: 'x' }\n    scorer: tool-trace\n    trace: [{ tool: edit }]\n")).toBe(
      'case "w" (cases[0]), field workspace: "../a.py" must be a relative path inside the workspace (no /, .., .git)',
    );
    expect(await refusal("no-checks.yaml", head)).toBe('case "w" (cases[0]), field end_state: the tool-trace scorer needs at least one end_state or trace check');
    expect(await refusal("no-goal.yaml", "  - id: w\n    workspace: { a.py: 'x' }\n    scorer: tool-trace\n    trace: [{ tool: edit }]\n")).toBe('case "w" (cases[0]), field goal: is required in an agentic case');
    expect(await refusal("wrong-scorer.yaml", "  - id: w\n    goal: g\n    workspace: { a.py: 'x' }\n    scorer: match\n")).toBe('case "w" (cases[0]), field scorer: is match; an agentic case (one with a workspace) is scored by tool-trace');
    expect(await refusal("no-workspace.yaml", "  - id: f\n    prompt: \"def f():\\n    pass\\n\"\n    entry_point: f\n    scorer: tool-trace\n    trace: [{ tool: edit }]\n")).toBe(
      'case "f" (cases[0]), field trace: belongs to agentic cases, which need a workspace',
    );
  });
});
