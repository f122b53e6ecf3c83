import { describe, expect, it } from "vitest";
import { ALL_TOOLS, edit, readFile, repoPath, type ToolContext, type ToolWorkspace } from "../agents/tools/index.js";
import { work } from "../agents/run-agent.js";
import { parseReproductionTests } from "../agents/tester.js";
import { SolveTrajectory } from "../src/orchestrator/solve/solve-trajectory.js";
import type { ChatRequest, ChatResponse, ModelBackend, ToolCall } from "../src/llm/types.js";

// The tools as a model meets them, on an in-memory workspace: schemas, answers, and every kind
// of mistake coming back as a message instead of an exception.

function memoryWorkspace(files: Record<string, string>): ToolWorkspace & { files: Record<string, string> } {
  return {
    files,
    exec: async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false, truncated: false }),
    readFile: async (file) => files[file],
    writeFile: async (file, content) => {
      files[file] = content;
    },
  };
}

function context(files: Record<string, string>) {
  const workspace = memoryWorkspace(files);
  const tools: ToolContext = { workspace, runTests: async () => ({ command: "pytest", passed: true, exitCode: 0, timedOut: false, output: "1 passed" }) };
  return { workspace, tools };
}

function call(name: string, args: unknown): ToolCall {
  return { id: "call_1", name, arguments: args };
}

describe("tool schemas", () => {
  it("are JSON Schema objects made from the zod schemas, one per tool", () => {
    expect(ALL_TOOLS.map((t) => t.name)).toEqual(["list_files", "read_file", "search", "edit", "run_tests", "run"]);
    for (const tool of ALL_TOOLS) {
      expect(tool.spec.parameters.type).toBe("object");
      expect(tool.spec.parameters).not.toHaveProperty("$schema");
      expect(tool.spec.description.length).toBeGreaterThan(20);
    }
    expect(edit.spec.parameters.required).toEqual(["path", "search", "replace"]);
    expect(readFile.spec.parameters.required).toEqual(["path"]);
  });
});

describe("edit", () => {
  const source = "def f(x):\n    return x - 1\n\n\ndef g(x):\n    return x - 1\n";

  it("replaces a block that occurs once", async () => {
    const { workspace, tools } = context({ "m.py": source });
    const outcome = await edit.invoke(call("edit", { path: "m.py", search: "def f(x):\n    return x - 1", replace: "def f(x):\n    return x + 1" }), tools);
    expect(outcome).toMatchObject({ isError: false, output: "edited m.py at line 1: 2 lines replaced by 2" });
    expect(workspace.files["m.py"]).toBe(source.replace("x - 1", "x + 1"));
  });

  it("refuses a block that occurs more than once, naming the lines", async () => {
    const { workspace, tools } = context({ "m.py": source });
    const outcome = await edit.invoke(call("edit", { path: "m.py", search: "    return x - 1", replace: "    return x" }), tools);
    expect(outcome.isError).toBe(true);
    expect(outcome.output).toBe("error: the search text occurs 2 times in m.py (at lines 2, 6); include more surrounding lines so it matches exactly once");
    expect(workspace.files["m.py"]).toBe(source);
  });

  it("refuses a block that is not there, with a hint when only the whitespace differs", async () => {
    const { tools } = context({ "m.py": source });
    const missing = await edit.invoke(call("edit", { path: "m.py", search: "return y", replace: "z" }), tools);
    expect(missing.output).toMatch(/^error: the search text is not in m\.py; read_file m\.py again/);
    const indented = await edit.invoke(call("edit", { path: "m.py", search: "def f(x):\n  return x - 1", replace: "z" }), tools);
    expect(indented.output).toContain("it matches only when whitespace is ignored");
    const numbered = await edit.invoke(call("edit", { path: "m.py", search: "2|     return x - 1\n3| nothing", replace: "z" }), tools);
    expect(numbered.output).toContain("read_file's line numbers");
  });

  it("creates a new file from an empty search, but never overwrites one", async () => {
    const { workspace, tools } = context({ "m.py": source });
    expect((await edit.invoke(call("edit", { path: "tests/test_m.py", search: "", replace: "def test():\n    pass\n" }), tools)).output).toBe("created tests/test_m.py (2 lines)");
    expect(workspace.files["tests/test_m.py"]).toBe("def test():\n    pass\n");
    expect((await edit.invoke(call("edit", { path: "m.py", search: "", replace: "x" }), tools)).output).toMatch(/^error: m\.py already exists/);
  });

  it("keeps a file's CRLF line endings", async () => {
    const { workspace, tools } = context({ "w.txt": "a\r\nb\r\nc\r\n" });
    await edit.invoke(call("edit", { path: "w.txt", search: "a\nb", replace: "A\nB" }), tools);
    expect(workspace.files["w.txt"]).toBe("A\r\nB\r\nc\r\n");
  });
});

describe("read_file", () => {
  it("shows numbered lines of a range and says what is left", async () => {
    const { tools } = context({ "a.txt": "one\ntwo\nthree\nfour\n" });
    const outcome = await readFile.invoke(call("read_file", { path: "a.txt", start_line: "2", end_line: 3 }), tools);
    expect(outcome.output).toBe("a.txt lines 2-3 of 4:\n2| two\n3| three\n(lines 4-4 not shown; read them with start_line=4)");
    expect((await readFile.invoke(call("read_file", { path: "nope.txt" }), tools)).output).toMatch(/^error: there is no file nope\.txt/);
    expect((await readFile.invoke(call("read_file", { path: "a.txt", start_line: 9 }), tools)).output).toBe("error: a.txt has only 4 lines");
  });
});

describe("bad calls come back as messages", () => {
  it("broken JSON, arguments that fail the schema, and paths outside the repository", async () => {
    const { tools } = context({ "a.txt": "x\n" });
    const broken = await readFile.invoke({ id: "c", name: "read_file", arguments: '{"path": "a.txt"', argumentsError: "the arguments are not valid JSON: Unexpected end of JSON input" }, tools);
    expect(broken.output).toBe("error: the arguments are not valid JSON: Unexpected end of JSON input. Call read_file again with a JSON object as its arguments.");
    const wrongType = await readFile.invoke(call("read_file", { path: 3 }), tools);
    expect(wrongType.output).toMatch(/^error: invalid arguments for read_file: path: /);
    for (const outside of ["/etc/passwd", "../x", "a/../../x", ".git/config"]) {
      expect((await readFile.invoke(call("read_file", { path: outside }), tools)).isError, outside).toBe(true);
    }
  });

  it("paths are normalised inside the repository", () => {
    expect(repoPath("/workspace/src/a.py")).toBe("src/a.py");
    expect(repoPath("./src//b/../a.py")).toBe("src/a.py");
    expect(repoPath(".", { allowRoot: true })).toBe(".");
    expect(() => repoPath(".")).toThrow("give a file path");
  });
});

describe("the tool loop", () => {
  /** A model that never stops reading, to show the tool-call budget ends the loop. */
  function endlessReader(): ModelBackend & { requests: ChatRequest[] } {
    const requests: ChatRequest[] = [];
    return {
      model: "fake",
      requests,
      preflight: async () => undefined,
      chat: async (request): Promise<ChatResponse> => {
        requests.push(request);
        const calls: ToolCall[] = [call("read_file", { path: "a.txt" }), { ...call("read_file", { path: "a.txt" }), id: "call_2" }];
        return { text: "", toolCalls: calls, usage: { input: 10, output: 5 }, latencyMs: 1, model: "fake", costUsd: 0.001, cached: false };
      },
    };
  }

  it("stops at the tool-call budget and answers every call, recording each as a step", async () => {
    const backend = endlessReader();
    const trajectory = new SolveTrajectory({ maxToolCalls: 3 });
    const { tools } = context({ "a.txt": "x\n" });
    const coder = { agent: "Coder", system: () => "s", message: () => "u", parse: (answer: string) => answer, tools: ALL_TOOLS } as const;
    const result = await work(coder, {}, backend, { tools, turns: trajectory });
    expect(result.stoppedBy).toBe("tool-call budget (3)");
    expect(trajectory.toolCalls).toBe(3);
    expect(trajectory.steps.map((s) => `${s.agent}:${s.action}`)).toEqual(["Coder:model", "Coder:read_file", "Coder:read_file", "Coder:model", "Coder:read_file"]);
    // The second model turn's last call was past the budget: it was answered, not run.
    expect(backend.requests).toHaveLength(2);
    expect(trajectory.spend().tokens).toBe(30);
  });
});

describe("the Tester's answer", () => {
  it("names its tests on a TESTS: line", () => {
    expect(parseReproductionTests("Added it.\nTESTS: tests/test_a.py::test_x, tests/test_b.py")).toEqual(["tests/test_a.py::test_x", "tests/test_b.py"]);
    expect(parseReproductionTests("`TESTS: test/a.test.js`")).toEqual(["test/a.test.js"]);
    expect(parseReproductionTests("no line")).toEqual([]);
  });
});
