import { z } from "zod";

/**
 * The suite file format (YAML or JSON under tasks/suites/, or any file given with --suite): a
 * suite is a dataset (its cases, or a HumanEval-format dataset by name) plus a solver (the mode
 * a run uses when none is given) plus a scorer per case, as an Inspect AI Task is.
 *
 * Every field a user writes is checked here; the scorers in src/evaluation/scorers/ receive the
 * typed result and never see the raw file.
 */

const identifier = z.string().regex(/^[A-Za-z_]\w*$/, "must be a Python identifier");
const weight = z.number().positive("must be a positive number");

/**
 * One rubric criterion, decided by exactly one of:
 *  - check: trusted Python run by the sandbox's judge; the program's functions are proxies that
 *    take and return plain data, and `__source__` holds the program's text (for AST checks).
 *    The criterion holds when the code returns.
 *  - program: Python appended to the program and run inside it, for what proxies cannot carry
 *    (instances of the program's classes, threads, a local server). The program judges itself
 *    here, as the Tester's tests do: use `check` wherever a proxy will do.
 *  - judge: a question for the judge model, answered with a 1-5 score.
 */
export const CriterionSchema = z
  .strictObject({
    name: z.string().min(1, "must not be empty"),
    weight,
    check: z.string().min(1).optional(),
    program: z.string().min(1).optional(),
    judge: z.string().min(1).optional(),
    /** Wall-clock limit for an executable criterion, in seconds (default 10). */
    timeout: z.number().positive().max(120).optional(),
  })
  .superRefine((criterion, context) => {
    const deciders = (["check", "program", "judge"] as const).filter((key) => criterion[key] !== undefined);
    if (deciders.length !== 1) {
      context.addIssue({ code: "custom", message: `needs exactly one of check, program or judge (has ${deciders.length ? deciders.join(" and ") : "none"})` });
    }
  });
export type Criterion = z.infer<typeof CriterionSchema>;

export const MATCH_KINDS = ["exact", "normalised", "numeric"] as const;

/** How a case is scored: the `scorer` name picks the scorer, the other fields are its settings. */
export type ScoringSpec =
  | { scorer: "tests"; test: string }
  | { scorer: "match"; answer: string | number | boolean; match: (typeof MATCH_KINDS)[number]; tolerance: number }
  | { scorer: "rubric"; criteria: Criterion[]; passScore: number };

export const SCORER_NAMES = ["tests", "match", "rubric"] as const;

export const SuiteCaseSchema = z.strictObject({
  id: z.string().min(1, "must not be empty"),
  category: z.string().min(1).optional(),
  tier: z.string().min(1).optional(),
  /** Where the case comes from and under what terms (e.g. "written for koderz, MIT"). */
  origin: z.string().min(1).optional(),
  /** The Python stub the agents see: a signature with a docstring, or a class with one. */
  prompt: z.string().min(1, "must not be empty"),
  entry_point: identifier,
  /** A known-good solution (what follows the prompt); used by tests and as a sanity check. */
  reference: z.string().optional(),
  scorer: z.enum(SCORER_NAMES).optional(),
  /** tests: defines check(candidate), as HumanEval's test field. */
  test: z.string().min(1).optional(),
  /** match: the expected answer: the entry point called with no arguments must return it. */
  answer: z.union([z.string(), z.number(), z.boolean()]).optional(),
  match: z.enum(MATCH_KINDS).optional(),
  /** match numeric: the largest accepted absolute difference. */
  tolerance: z.number().nonnegative().optional(),
  /** rubric: the weighted criteria. */
  criteria: z.array(CriterionSchema).min(1, "needs at least one criterion").optional(),
  /** tests and match: the grader's wall-clock limit in seconds (default 3, as HumanEval's). */
  timeout: z.number().positive().max(120).optional(),
  /** rubric: the 1-5 score at or above which the case counts as solved (default: the suite's). */
  pass_score: z.number().min(1).max(5).optional(),
});
export type SuiteCase = z.infer<typeof SuiteCaseSchema>;

export const SuiteFileSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9+._-]*$/, "must be lower-case letters, digits and + . _ -"),
    description: z.string().optional(),
    origin: z.string().optional(),
    /** The mode a run uses when --mode is not given. */
    solver: z.strictObject({ mode: z.string().min(1) }).optional(),
    /** The scorer of cases that do not name one. */
    scorer: z.enum(SCORER_NAMES).optional(),
    /** rubric: the default pass score on the 1-5 scale. */
    pass_score: z.number().min(1).max(5).optional(),
    /** A HumanEval-format dataset by name, instead of cases: its hidden tests score it. */
    dataset: z.enum(["humaneval", "humaneval+"]).optional(),
    cases: z.array(SuiteCaseSchema).optional(),
  })
  .superRefine((suite, context) => {
    if ((suite.dataset === undefined) === (suite.cases === undefined)) {
      context.addIssue({ code: "custom", path: ["cases"], message: "a suite needs either cases or a dataset (humaneval, humaneval+), not both" });
    }
  });
export type SuiteFile = z.infer<typeof SuiteFileSchema>;

/** A rubric case counts as solved at 4 of 5 unless its suite or the case says otherwise. */
export const DEFAULT_PASS_SCORE = 4;
