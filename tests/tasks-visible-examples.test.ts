import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { extractVisibleExamples } from "../tasks/docstring-examples.js";
import { loadSuiteFile } from "../tasks/load.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile, humanEvalPlusFile } from "./fixtures/datasets.js";

let humanEval: Task[];
beforeAll(async () => {
  humanEval = await loadSuiteFile(humanEvalFile, "humaneval");
});

const squeeze = (text: string) => text.replace(/\s+/g, "");

/** The top-level arguments of a call, keyword names removed: `f(a=[1, 2], 3)` -> ["[1,2]", "3"]. */
function argumentsOf(call: string): string[] {
  const inside = call.slice(call.indexOf("(") + 1, call.lastIndexOf(")"));
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let current = "";
  for (const ch of inside) {
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim()) parts.push(current);
  return parts.map((part) => squeeze(part).replace(/^[A-Za-z_]\w*=(?!=)/, ""));
}

describe("visible examples of HumanEval", () => {
  it("most problems show at least one example in their docstring", () => {
    const withExamples = humanEval.filter((task) => task.visibleExamples.length > 0);
    const total = humanEval.reduce((sum, task) => sum + task.visibleExamples.length, 0);
    console.log(`visible examples: ${withExamples.length} of ${humanEval.length} problems have at least one (${total} examples)`);
    expect(withExamples.length).toBeGreaterThanOrEqual(150);
  });

  it("come only from the prompt: every argument and expected value is text of the prompt", () => {
    // Lower case, because a prompt's "=> true" becomes the Python value True.
    for (const task of humanEval) {
      const prompt = squeeze(task.prompt).toLowerCase();
      for (const example of task.visibleExamples) {
        for (const value of [...argumentsOf(example.call), squeeze(example.expected)].map((v) => v.toLowerCase())) {
          expect(prompt, `${task.id}: ${example.call} -> ${example.expected}`).toContain(value);
        }
      }
    }
  });

  it("never come from the hidden tests, even when the tests hold asserts an example could be made of", () => {
    const task = {
      prompt: 'def double(x):\n    """Doubles x."""\n',
      hiddenTest: "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 6\n",
    };
    expect(extractVisibleExamples(task.prompt, "double")).toEqual([]);
  });

  it("HumanEval+ problems carry the same examples (they share the prompts)", async () => {
    const plus = await loadSuiteFile(humanEvalPlusFile, "humaneval+");
    const same = plus.filter((task, i) => JSON.stringify(task.visibleExamples) === JSON.stringify(humanEval[i]!.visibleExamples));
    expect(same.length).toBeGreaterThanOrEqual(163);
  });

  it("are nearly all satisfied by the canonical solutions (the rest are mistakes in the docstrings themselves)", () => {
    const checks = humanEval.flatMap((task) => task.visibleExamples.map((example) => ({ id: task.id, program: task.prompt + task.canonicalSolution, ...example })));
    // Dataset code only (prompts and canonical solutions), so it runs in local python3.
    const script = [
      "import json, sys",
      "checks = json.load(sys.stdin)",
      "bad = []",
      "for c in checks:",
      "    g = {}",
      "    try:",
      "        exec(c['program'], g)",
      "        got, want = eval(c['call'], g), eval(c['expected'], g)",
      "        ok = got == want or (isinstance(got, float) and abs(got - want) < 1e-6)",
      "    except Exception:",
      "        ok = False",
      "    if not ok: bad.append(c['id'] + ' ' + c['call'])",
      "print(json.dumps(bad))",
    ].join("\n");
    const disagreeing = JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(checks) }).toString()) as string[];
    console.log(`visible examples agreeing with the canonical solution: ${checks.length - disagreeing.length} of ${checks.length}; not: ${disagreeing.join("; ")}`);
    expect(disagreeing.length / checks.length).toBeLessThan(0.03);
  });
});

describe("the docstring forms understood", () => {
  const promptWith = (docstring: string, signature = "f(x, y=0)") => `def ${signature.replace(/\(.*/, "")}_helper():\n    pass\n\n\ndef ${signature}:\n    """${docstring}\n    """\n`;

  it.each([
    [">>> f(1)\n    2", "f(1)", "2"],
    [">>> f([1, 2])  # a comment\n    [2, 3]", "f([1, 2])", "[2, 3]"],
    [">>> f(1) == 2", "f(1)", "2"],
    ["f(1) ==> 2", "f(1)", "2"],
    ["f('a') => 'b'", "f('a')", "'b'"],
    ["f(1) -> 2", "f(1)", "2"],
    ["f(1) ➞ True", "f(1)", "True"],
    ["* f(1) == [1, 2]", "f(1)", "[1, 2]"],
    ["f(1) should return 16.", "f(1)", "16"],
    ["f(1) returns 'ab'", "f(1)", "'ab'"],
    ['f(15)   # returns "db1111db"', "f(15)", '"db1111db"'],
    ["f(\"x\") # => 'No' (the name should start with a letter)", 'f("x")', "'No'"],
    ["f(1) => true", "f(1)", "True"],
    ["f(1, 2) -> 19 - 5 - 6 = 8", "f(1, 2)", "8"],
    ["for f(7, 34) == 34", "f(7, 34)", "34"],
    ["g(1) ==> 5", "f(1)", "5"], // a name the prompt does not define is a typo of the entry point
    ["Input: x = [1, 2], y = 3\n    Output: 4", "f(x=[1, 2], y=3)", "4"],
    ["Input: [4,2,3]\n    Output: [2, 1]", "f([4,2,3])", "[2, 1]"],
    ["Input:\n        grid : [[0, 1]]\n        capacity : 1\n    Output: 6", "f([[0, 1]], 1)", "6"],
    ["For x = [1,2,3] the output should be 14", "f(x=[1,2,3])", "14"],
    ['For x = "abcde", y = "ae", the result should be (\'bcd\',False)', 'f(x="abcde", y="ae")', "('bcd',False)"],
  ])("%s", (docstring, call, expected) => {
    expect(extractVisibleExamples(promptWith(docstring), "f")).toEqual([{ call, expected }]);
  });

  it.each([
    ["prose", "f(n) = 1 + n / 2, if n is even."],
    ["a derivation, not an example", "f(2) = 1 + (2 / 2) = 2"],
    ["an argument the example never defines", "f(a) => False"],
    ["a call of a helper the prompt defines", "f_helper(1) == 2"],
    ["a sentence mentioning a call", "sum(first index value, last index value) is odd"],
    ["a doctest with no value", ">>> x = f(1)"],
  ])("ignores %s", (_what, docstring) => {
    expect(extractVisibleExamples(promptWith(docstring), "f")).toEqual([]);
  });

  it("reads a call spread over several lines", () => {
    const docstring = "f([\n      [1, 2],\n      [3, 4]\n    ], 1) == [(0, 0)]";
    expect(extractVisibleExamples(promptWith(docstring), "f")).toEqual([{ call: "f([ [1, 2], [3, 4] ], 1)", expected: "[(0, 0)]" }]);
  });
});
