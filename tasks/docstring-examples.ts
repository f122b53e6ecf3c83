import type { DocstringExample } from "./task.js";

/**
 * Finds the examples a problem shows in its own docstring, so agents can run them as feedback.
 * Only the prompt is read (never the hidden tests), and only the entry point's docstring.
 *
 * HumanEval writes examples in many hand-made forms; recognised here:
 *   >>> f(x)            (doctest, expected value on the following line(s))
 *   f(x) ==> y, f(x) => y, f(x) -> y, f(x) ➞ y, f(x) == y, f(x) = y
 *   f(x) should return y., f(x) returns y, f(x) # returns y, f(x) # => y
 *   Input: a = 1, b = 2 / Input: 3 / Input: (one "name : value" per line)  ...  Output: y
 *   For lst = [1, 2] the output should be 3 / For s = "ab", c = "a", the result should be ('b', True)
 * Both sides must look like Python literals (numbers, strings, lists, ... and calls), so prose such
 * as "tri(n) = 1 + n / 2, if n is even" is not mistaken for an example.
 */
export function extractVisibleExamples(prompt: string, entryPoint: string): DocstringExample[] {
  const docstring = entryPointDocstring(prompt, entryPoint);
  if (docstring === undefined) return [];
  const context: ExampleContext = {
    entryPoint,
    parameters: parameterNames(prompt, entryPoint),
    otherFunctions: new Set(definedFunctionNames(prompt).filter((name) => name !== entryPoint)),
  };
  const lines = docstring.split("\n");
  const examples: DocstringExample[] = [];
  for (let i = 0; i < lines.length; ) {
    const found = doctestAt(lines, i) ?? inputOutputAt(lines, i, context) ?? forTheOutputAt(lines, i, context) ?? arrowAt(lines, i, context);
    if (!found) {
      i++;
      continue;
    }
    if (found.example && !examples.some((e) => e.call === found.example!.call && e.expected === found.example!.expected)) {
      examples.push(found.example);
    }
    i = found.next;
  }
  return examples;
}

interface ExampleContext {
  entryPoint: string;
  parameters: string[];
  /** Helpers defined in the prompt: their examples are not examples of the entry point. */
  otherFunctions: Set<string>;
}

/** An example found at a line (or undefined when the lines there are no valid example), and where to go on. */
interface Found {
  example?: DocstringExample;
  next: number;
}

function entryPointDocstring(prompt: string, entryPoint: string): string | undefined {
  const defAt = prompt.lastIndexOf(`def ${entryPoint}(`);
  if (defAt < 0) return undefined;
  const rest = prompt.slice(defAt);
  const open = /"""|'''/.exec(rest);
  if (!open) return undefined;
  const start = open.index + 3;
  const end = rest.indexOf(open[0], start);
  return end < 0 ? rest.slice(start) : rest.slice(start, end);
}

function definedFunctionNames(prompt: string): string[] {
  return [...prompt.matchAll(/^\s*def\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1]!);
}

function parameterNames(prompt: string, entryPoint: string): string[] {
  const defAt = prompt.lastIndexOf(`def ${entryPoint}(`);
  if (defAt < 0) return [];
  const close = matchingClose(prompt, defAt + `def ${entryPoint}`.length);
  if (close < 0) return [];
  const inside = prompt.slice(defAt + `def ${entryPoint}(`.length, close);
  return splitTopLevel(inside, ",")
    .map((part) => /^\s*\*{0,2}([A-Za-z_]\w*)/.exec(part)?.[1])
    .filter((name): name is string => name !== undefined);
}

// ---- the forms ----------------------------------------------------------------------------

function doctestAt(lines: string[], i: number): Found | undefined {
  const first = lines[i]!.trim();
  if (!first.startsWith(">>>")) return undefined;
  const callLines = [first.slice(3).trim()];
  let j = i + 1;
  while (j < lines.length && lines[j]!.trim().startsWith("...")) callLines.push(lines[j++]!.trim().slice(3).trim());
  const expectedLines: string[] = [];
  while (j < lines.length && lines[j]!.trim() !== "" && !lines[j]!.trim().startsWith(">>>")) expectedLines.push(lines[j++]!.trim());
  let call = stripComment(callLines.join("\n")).trim();
  let expected = stripComment(expectedLines.join("\n")).trim();
  if (expected === "") {
    // ">>> f(x) == y" with no output line (HumanEval/108 and others): the value is on the call line.
    const inline = /^[A-Za-z_][\w.]*\s*\(/.exec(call);
    const close = inline ? matchingClose(call, inline[0].length - 1) : -1;
    if (close > 0) {
      const rest = call.slice(close + 1).trim();
      const separator = SEPARATORS.find((s) => rest.startsWith(s));
      // Without a separator, only a value right after the call counts ("f([1, 0]) [0, 1]", HumanEval/116).
      if (separator !== undefined || /^[[({'"\d-]/.test(rest)) {
        expected = cleanExpected(rest.slice(separator?.length ?? 0));
        call = call.slice(0, close + 1);
      }
    }
  }
  const valid = expected !== "" && looksLikeLiteralExpression(call) && looksLikeLiteralExpression(expected);
  return { example: valid ? { call, expected } : undefined, next: j };
}

function inputOutputAt(lines: string[], i: number, context: ExampleContext): Found | undefined {
  const first = /^\s*Input\s*:\s*(.*)$/.exec(lines[i]!);
  if (!first) return undefined;
  let j = i + 1;
  const inputLines = first[1]!.trim() ? [first[1]!.trim()] : [];
  while (j < lines.length && !/^\s*Output\s*:/.test(lines[j]!) && j - i <= 6) {
    if (lines[j]!.trim()) inputLines.push(lines[j]!.trim());
    j++;
  }
  const output = j < lines.length ? /^\s*Output\s*:\s*(.*)$/.exec(lines[j]!) : null;
  if (!output) return { next: i + 1 };
  const expected = cleanExpected(output[1]!);
  const args = inputLines.length === 1 && !/^[A-Za-z_]\w*\s*[=:]/.test(inputLines[0]!) ? inputLines[0]! : namedArguments(inputLines.join(", "), context);
  return { example: validExample(`${context.entryPoint}(${args ?? ""})`, expected, args !== undefined), next: j + 1 };
}

function forTheOutputAt(lines: string[], i: number, context: ExampleContext): Found | undefined {
  const match = /^\s*For\s+(.+?),?\s+the\s+(?:output|result)\s+should\s+be\s+(.+)$/.exec(lines[i]!);
  if (!match) return undefined;
  const args = namedArguments(match[1]!, context);
  return { example: validExample(`${context.entryPoint}(${args ?? ""})`, cleanExpected(match[2]!), args !== undefined), next: i + 1 };
}

const SEPARATORS = ["==>", "=>", "->", "➞", "==", "=", "should return", "# returns", "# =>", "returns"];

function arrowAt(lines: string[], i: number, context: ExampleContext): Found | undefined {
  const line = lines[i]!;
  const start = /^\s*(?:[*-]\s+)?(?:for\s+|assert\s+)?([A-Za-z_]\w*)\s*\(/d.exec(line);
  if (!start) return undefined;
  const name = start[1]!;
  if (context.otherFunctions.has(name)) return undefined;
  // The call may span lines (a nested list written one row per line), so scan the joined text.
  const text = lines.slice(i).join("\n");
  const nameStart = start.indices![1]![0];
  const close = matchingClose(text, start[0].length - 1);
  if (close < 0) return undefined;
  const callLineCount = text.slice(0, close).split("\n").length;
  const lineEnd = text.indexOf("\n", close);
  const after = (lineEnd < 0 ? text.slice(close + 1) : text.slice(close + 1, lineEnd)).trim();
  const separator = SEPARATORS.find((s) => after.startsWith(s));
  if (!separator) return undefined;
  const next = i + callLineCount;
  let expected = after.slice(separator.length).trim();
  // "f(x) -> 19 - 5 - 6 = 8" shows its arithmetic; the value is after the last " = ". With "=" as the
  // separator such a chain is a derivation ("tri(2) = 1 + (2 / 2) = 2"), not an example.
  if (/\s=\s/.test(expected)) {
    if (separator === "=") return { next };
    expected = expected.slice(expected.lastIndexOf(" = ") + 3);
  }
  // A builtin wrapped around a call ("round(f(x), 2) -> ...") is not an example of the entry point.
  if (name !== context.entryPoint && isPythonBuiltin(name)) return { next };
  // Any other name is a typo of the entry point's (HumanEval/81 writes grade_equation, /149 list_sort).
  const call = context.entryPoint + text.slice(nameStart + name.length, close + 1).replace(/\s*\n\s*/g, " ");
  const cleaned = cleanExpected(expected);
  // "tri(3) = tri(2) + tri(1) + tri(4)" is a recurrence, not an example.
  if (new RegExp(`\\b${context.entryPoint}\\s*\\(`).test(cleaned)) return { next };
  return { example: validExample(call, cleaned, true), next };
}

// ---- helpers -----------------------------------------------------------------------------

function validExample(call: string, expected: string, argumentsOk: boolean): DocstringExample | undefined {
  if (!argumentsOk || expected === "") return undefined;
  return looksLikeLiteralExpression(call) && looksLikeLiteralExpression(expected) ? { call, expected } : undefined;
}

/** "a = 1, b = [2]" or "a : 1, b : [2]" as call arguments: by keyword when every name is a parameter. */
function namedArguments(text: string, context: ExampleContext): string | undefined {
  const pairs = splitTopLevel(text, ",")
    .map((part) => /^\s*([A-Za-z_]\w*)\s*[=:]\s*([\s\S]+?)\s*$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, value: m[2]! }));
  if (pairs.length === 0) return undefined;
  const byKeyword = pairs.every((p) => context.parameters.includes(p.name));
  return pairs.map((p) => (byKeyword ? `${p.name}=${p.value}` : p.value)).join(", ");
}

/** The value part of an example line, without comments, trailing periods or a parenthetical note. */
function cleanExpected(raw: string): string {
  let value = stripComment(raw).trim();
  if (value.endsWith(".") && !value.endsWith("...")) value = value.slice(0, -1).trim();
  if (/^(true|false|none)$/i.test(value)) value = value[0]!.toUpperCase() + value.slice(1).toLowerCase();
  if (!looksLikeLiteralExpression(value)) {
    const note = topLevelIndex(value, " (");
    if (note > 0) value = value.slice(0, note).trim();
  }
  return value;
}

const BUILTINS = new Set(["print", "len", "round", "sum", "sorted", "list", "str", "int", "float", "max", "min", "abs", "set", "tuple", "dict", "range"]);
function isPythonBuiltin(name: string): boolean {
  return BUILTINS.has(name);
}

/**
 * True when `text` is built only from Python literals, calls and keyword arguments: numbers,
 * strings, True/False/None, brackets, commas, colons and arithmetic. A bare name (prose, or a
 * variable the example never defines) makes it false.
 */
function looksLikeLiteralExpression(text: string): boolean {
  if (text.trim() === "") return false;
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = stringEnd(text, i);
      if (end < 0) return false;
      i = end;
      continue;
    }
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const number = /^(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?j?/.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      if (/[A-Za-z_]/.test(text[i] ?? "")) return false;
      continue;
    }
    const word = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*/.exec(text.slice(i));
    if (word) {
      const rest = text.slice(i + word[0].length).trimStart();
      const isConstant = ["True", "False", "None"].includes(word[0]);
      const isCall = rest.startsWith("(");
      const isKeyword = depth > 0 && rest.startsWith("=") && !rest.startsWith("==");
      if (!isConstant && !isCall && !isKeyword) return false;
      i += word[0].length;
      continue;
    }
    if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) {
      if (--depth < 0) return false;
    } else if (!",:+-*/%=<>!.".includes(ch)) return false;
    i++;
  }
  return depth === 0;
}

/** Index just after the string literal starting at `start` (a quote), or -1 when it never closes. */
function stringEnd(text: string, start: number): number {
  const quote = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i + 1;
    else if (text[i] === "\n") return -1;
  }
  return -1;
}

/** Index of the bracket closing the one at `open` (which must be an opening bracket), or -1. */
function matchingClose(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch) && --depth === 0) return i;
  }
  return -1;
}

function stripComment(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const at = topLevelIndex(line, "#", false);
      return at < 0 ? line : line.slice(0, at);
    })
    .join("\n");
}

/** First index of `needle` outside string literals (and, if `outsideBrackets`, outside brackets). */
function topLevelIndex(text: string, needle: string, outsideBrackets = true): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
      continue;
    }
    if ("([{".includes(ch) && !text.startsWith(needle, i)) depth++;
    else if (")]}".includes(ch)) depth--;
    if ((depth === 0 || !outsideBrackets) && text.startsWith(needle, i)) return i;
  }
  return -1;
}

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = stringEnd(text, i);
      if (end < 0) break;
      i = end - 1;
    } else if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (depth === 0 && ch === separator) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(text.slice(from));
  return parts;
}
