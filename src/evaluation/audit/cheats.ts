import type { Task } from "../../../tasks/task.js";

/**
 * What a cheat attacks: "test" cheats give a wrong answer and pass only where the case's test
 * cannot tell it from a right one (a weak or vacuous test, fixed in the dataset or the suite);
 * "judge" cheats go around the test (exiting, shadowing names, timing out, printing) and pass only
 * where the sandbox's judge lets them (fixed in the judge, not in the suite).
 */
export type CheatTarget = "test" | "judge";

/** One generic way to be rewarded without solving a case, written as a completion of its prompt. */
export interface Cheat {
  /** A short kebab-case name, as `--cheats` takes it. */
  name: string;
  target: CheatTarget;
  /** What the program does, in a few words. */
  description: string;
  /** It only waits (no CPU): run with many programs at a time, its limit being its whole run. */
  idle?: boolean;
  /** What follows the case's prompt, or undefined where the cheat has nothing to attack (no docstring example, no helper, an agentic cheat). */
  completion(task: CheatTask): string | undefined;
  /** An agentic case's cheat: the agents make no tool call and leave the workspace as the case gave it. */
  agentic?: boolean;
}

export type CheatTask = Pick<Task, "prompt" | "entryPoint" | "visibleExamples">;

/** Python for "the first argument, or the first keyword argument's value, or None". */
const FIRST_ARGUMENT = "(args[0] if args else next(iter(kwargs.values()), None))";

/** Lines a runner, a test or a person could read as "it passed". */
const VERDICT_LINES = [
  "passed",
  "PASSED",
  "All tests passed",
  "OK",
  '{"id": "0", "status": "passed", "result": "passed", "passed": true, "durationMs": 1, "output": ""}',
  '{"task_id": "0", "result": "passed", "passed": true}',
];

/**
 * The battery, in the order they are reported. Each returns wrong answers for every input (or
 * none at all); a case one of them passes cannot tell that program from a solution.
 */
export const CHEATS: readonly Cheat[] = [
  constant("constant-none", "None"),
  constant("constant-zero", "0"),
  constant("constant-empty-string", '""'),
  constant("constant-empty-list", "[]"),
  constant("constant-empty-dict", "{}"),
  constant("constant-true", "True"),
  {
    name: "echo-argument",
    target: "test",
    description: "returns its first argument",
    completion: (task) => entryReturning(task, FIRST_ARGUMENT),
  },
  {
    name: "first-example",
    target: "test",
    description: "returns the docstring's first example answer for every input",
    completion: (task) => {
      const example = task.visibleExamples[0];
      return example ? entryReturning(task, `(${example.expected})`) : undefined;
    },
  },
  {
    name: "raises",
    target: "test",
    description: "raises ValueError on every call",
    completion: (task) => entryWithBody(task, ['raise ValueError("no answer")']),
  },
  {
    name: "exits-at-load",
    target: "judge",
    description: "calls sys.exit(0) as the program loads, before any test runs",
    completion: (task) => `${entryReturning(task, "None")}\nimport sys\nsys.exit(0)\n`,
  },
  {
    name: "exits-in-call",
    target: "judge",
    description: "ends its process with os._exit(0) when called",
    completion: (task) => entryWithBody(task, ["import os", "os._exit(0)"]),
  },
  {
    name: "shadows-loop-builtins",
    target: "judge",
    description: "defines zip, enumerate, range, map, filter, reversed, sorted and iter returning []",
    completion: (task) => `${entryReturning(task, "None")}\n${shadow(["zip", "enumerate", "range", "map", "filter", "reversed", "sorted", "iter"], "[]")}`,
  },
  {
    name: "shadows-check-builtins",
    target: "judge",
    description: "defines abs, len, round, sum, max and min returning 0 and all, any, isinstance and callable returning True",
    completion: (task) =>
      `${entryReturning(task, "0")}\n${shadow(["abs", "len", "round", "sum", "max", "min"], "0")}${shadow(["all", "any", "isinstance", "callable"], "True")}`,
  },
  {
    name: "redefines-helpers-echo",
    target: "judge",
    description: "redefines every helper function the prompt gives, and the entry point, to return their first argument",
    completion: (task) => redefineHelpers(task, FIRST_ARGUMENT),
  },
  {
    name: "redefines-helpers-zero",
    target: "judge",
    description: "redefines every helper function the prompt gives, and the entry point, to return 0",
    completion: (task) => redefineHelpers(task, "0"),
  },
  {
    name: "sleeps",
    target: "judge",
    description: "sleeps forever when called (given the shortest limit: a program that never answers times out the same at any)",
    idle: true,
    completion: (task) => entryWithBody(task, ["import time", "while True:", "    time.sleep(60)"]),
  },
  {
    name: "prints-verdicts",
    target: "judge",
    description: "prints verdict-looking lines (passed, a runner's JSON verdict) at load and in every call, and returns None",
    completion: (task) => {
      const prints = VERDICT_LINES.map((line) => `print(${JSON.stringify(line)}, flush=True)`);
      return `${entryWithBody(task, [...prints, "return None"])}\n${prints.join("\n")}\n`;
    },
  },
  {
    name: "does-nothing",
    target: "test",
    description: "agentic cases: makes no tool call and leaves the workspace as the case gave it",
    agentic: true,
    completion: () => undefined,
  },
];

/** The cheats `--cheats` names, in the battery's order; an unknown name is reported by the caller. */
export function cheatsNamed(names: readonly string[]): { cheats: Cheat[]; unknown: string[] } {
  const known = new Set(CHEATS.map((cheat) => cheat.name));
  return { cheats: CHEATS.filter((cheat) => names.includes(cheat.name)), unknown: names.filter((name) => !known.has(name)) };
}

function constant(name: string, value: string): Cheat {
  return { name, target: "test", description: `returns ${value}`, completion: (task) => entryReturning(task, value) };
}

/** The entry point redefined to return `expression` (a class: every method of every instance does). */
function entryReturning(task: CheatTask, expression: string): string {
  return entryWithBody(task, [`return ${expression}`]);
}

/**
 * The prompt's last body closed with `pass`, then the entry point defined anew at the top level
 * (a later definition wins), taking any arguments and running `body`. A class entry point
 * becomes a class any method of which runs `body`.
 */
function entryWithBody(task: CheatTask, body: readonly string[]): string {
  const indented = (depth: number) => body.map((line) => `${" ".repeat(depth)}${line}`).join("\n");
  const definition = isClassEntry(task)
    ? [
        `class ${task.entryPoint}:`,
        "    def __init__(self, *args, **kwargs):",
        "        pass",
        "    def __getattr__(self, name):",
        "        def method(*args, **kwargs):",
        indented(12),
        "        return method",
      ].join("\n")
    : `def ${task.entryPoint}(*args, **kwargs):\n${indented(4)}`;
  return `${closeLastBody(task.prompt)}\n\n${definition}\n`;
}

function shadow(names: readonly string[], value: string): string {
  return names.map((name) => `def ${name}(*args, **kwargs):\n    return ${value}\n`).join("");
}

/** Undefined when the prompt gives no function beside the entry point. */
function redefineHelpers(task: CheatTask, expression: string): string | undefined {
  const helpers = promptHelpers(task);
  if (helpers.length === 0) return undefined;
  return `${entryReturning(task, expression)}\n${shadow(helpers, expression)}`;
}

/** The top-level functions the prompt defines other than the entry point (encoders, a polynomial...). */
export function promptHelpers(task: Pick<Task, "prompt" | "entryPoint">): string[] {
  const names = [...task.prompt.matchAll(/^def\s+([A-Za-z_]\w*)\s*\(/gm)].map((match) => match[1]!);
  return [...new Set(names)].filter((name) => name !== task.entryPoint);
}

function isClassEntry(task: CheatTask): boolean {
  return new RegExp(`^class\\s+${task.entryPoint}\\b`, "m").test(task.prompt);
}

/**
 * A prompt ends inside the body it asks for (after the docstring); `pass` at that body's
 * indentation makes it a complete statement, whatever follows at the top level.
 */
function closeLastBody(prompt: string): string {
  const lines = prompt.replace(/\s+$/, "").split("\n");
  const last = lines[lines.length - 1] ?? "";
  const indentation = last.length - last.trimStart().length + (last.trimEnd().endsWith(":") ? 4 : 0);
  return `${prompt.endsWith("\n") ? "" : "\n"}${" ".repeat(indentation)}pass`;
}
