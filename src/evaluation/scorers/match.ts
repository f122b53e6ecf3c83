import type { Scorer } from "./scorer.js";
import { pythonString } from "./python-literal.js";

/**
 * The answer the entry point returns (called with no arguments) against the expected one:
 *  - exact: equal values of the same kind. Booleans match only booleans and numbers only numbers,
 *    both ways (True is not 1, and 1 is not true); an int and a float of equal value match
 *    (42 and 42.0); 42 and "42" differ;
 *  - normalised: equal as text after case folding, collapsing whitespace and dropping a final period;
 *  - numeric: within `tolerance` of the expected number. A number is an int or float (never a
 *    boolean), or a string of NUMBER_GRAMMAR: optional spaces and sign, ASCII digits with an
 *    optional decimal point, an optional exponent ("3.50", "-1e3", " .5 "); not "4_2", not
 *    "inf" or "nan", not digits of other scripts, though Python's float() takes all of those.
 * The comparison runs in the sandbox's judge, outside the program, so no program can report its
 * own match; only the returned value (plain data) crosses.
 */
export const matchScorer: Scorer = {
  name: "match",
  async score({ task, completion, sandbox, timeoutSeconds }) {
    if (task.scoring?.scorer !== "match") throw new Error(`match scorer given a ${task.scoring?.scorer ?? "tests"} case`);
    const check = matchCheck(task.entryPoint, task.scoring);
    const [verdict] = await sandbox.run([{ id: task.id, source: `${task.prompt}${completion}`, check, timeoutSeconds }]);
    return { passed: verdict!.passed, verdict: verdict!.result, calls: [] };
  },
};

/** What a numeric string must be (a Python regular expression, matched whole; ASCII digits only). */
export const NUMBER_GRAMMAR = "[ \\t]*[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \\t]*";

/** The trusted Python that decides a match. */
export function matchCheck(entryPoint: string, spec: { answer: string | number | boolean; match: "exact" | "normalised" | "numeric"; tolerance: number }): string {
  return [
    "import json as __json",
    `__want = __json.loads(${pythonString(JSON.stringify(spec.answer))})`,
    `__got = ${entryPoint}()`,
    "def __norm(value):",
    "    text = ' '.join(str(value).split()).casefold()",
    "    return text[:-1] if text.endswith('.') else text",
    "import re as __re",
    `__NUMBER = __re.compile(${pythonString(NUMBER_GRAMMAR)})`,
    "def __number(value):",
    "    if isinstance(value, bool):",
    "        raise ValueError('a boolean is not a number')",
    "    if isinstance(value, (int, float)):",
    "        return float(value)",
    "    if isinstance(value, str) and __NUMBER.fullmatch(value):",
    "        return float(value)",
    "    raise ValueError('not a number by the match grammar')",
    "def __kind(value):",
    "    return 'boolean' if isinstance(value, bool) else 'number' if isinstance(value, (int, float)) else type(value).__name__",
    ...{
      exact: ["__ok = __kind(__got) == __kind(__want) and __got == __want"],
      normalised: ["__ok = __norm(__got) == __norm(__want)"],
      numeric: [
        "try:",
        `    __ok = abs(__number(__got) - __number(__want)) <= ${spec.tolerance}`,
        "except (TypeError, ValueError):",
        "    __ok = False",
      ],
    }[spec.match],
    "if not __ok:",
    `    raise AssertionError('answered ' + repr(__got)[:200] + ', expected ' + repr(__want) + ' (${spec.match})')`,
  ].join("\n");
}
