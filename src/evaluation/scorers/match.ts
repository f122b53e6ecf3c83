import type { Scorer } from "./scorer.js";
import { pythonString } from "./python-literal.js";

/**
 * The answer the entry point returns (called with no arguments) against the expected one:
 *  - exact: equal values (42 and "42" differ);
 *  - normalised: equal as text after case folding, collapsing whitespace and dropping a final period;
 *  - numeric: within `tolerance` of the expected number (a numeric string such as "3.50" counts).
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

/** The trusted Python that decides a match. */
export function matchCheck(entryPoint: string, spec: { answer: string | number | boolean; match: "exact" | "normalised" | "numeric"; tolerance: number }): string {
  return [
    "import json as __json",
    `__want = __json.loads(${pythonString(JSON.stringify(spec.answer))})`,
    `__got = ${entryPoint}()`,
    "def __norm(value):",
    "    text = ' '.join(str(value).split()).casefold()",
    "    return text[:-1] if text.endswith('.') else text",
    "def __number(value):",
    "    if isinstance(value, bool):",
    "        raise ValueError('a boolean is not a number')",
    "    return float(value)",
    ...{
      exact: ["__ok = type(__got) == type(__want) and __got == __want or (isinstance(__got, (int, float)) and not isinstance(__got, bool) and isinstance(__want, (int, float)) and __got == __want)"],
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
