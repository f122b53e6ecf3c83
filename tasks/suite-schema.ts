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

const checkWeight = weight.optional();
/** A path inside an agentic case's workspace: relative, never leading out of it or into .git. */
const workspacePath = z
  .string()
  .min(1, "must not be empty")
  .refine((p) => !p.startsWith("/") && !p.split("/").includes("..") && p.split("/")[0] !== ".git", "must be a relative path inside the workspace (no /, .., .git)");

/**
 * tool-trace: one fact about the workspace once the agents are done, decided by exactly one of
 *  - file: the file exists (or, with `exists: false`, does not), contains / does not contain a
 *    text, or equals a text exactly;
 *  - command: a shell line run in the workspace exits with `exit_code` (default 0), and its output
 *    (stdout and stderr) contains `output_contains`.
 */
export const EndStateCheckSchema = z
  .strictObject({
    file: workspacePath.optional(),
    exists: z.boolean().optional(),
    contains: z.string().min(1).optional(),
    not_contains: z.string().min(1).optional(),
    equals: z.string().optional(),
    command: z.string().min(1).optional(),
    exit_code: z.number().int().min(0).max(255).optional(),
    output_contains: z.string().min(1).optional(),
    /** command: seconds it may run (default 30). */
    timeout: z.number().positive().max(120).optional(),
    weight: checkWeight,
  })
  .superRefine((check, context) => {
    if ((check.file === undefined) === (check.command === undefined)) {
      context.addIssue({ code: "custom", message: "needs exactly one of file or command" });
      return;
    }
    const fileOnly = (["exists", "contains", "not_contains", "equals"] as const).filter((key) => check[key] !== undefined);
    const commandOnly = (["exit_code", "output_contains", "timeout"] as const).filter((key) => check[key] !== undefined);
    if (check.file !== undefined && commandOnly.length) context.addIssue({ code: "custom", path: [commandOnly[0]!], message: "belongs to a command check, not a file check" });
    if (check.command !== undefined && fileOnly.length) context.addIssue({ code: "custom", path: [fileOnly[0]!], message: "belongs to a file check, not a command check" });
    if (check.exists === false && fileOnly.length > 1) context.addIssue({ code: "custom", path: ["exists"], message: "a file that must not exist has no contents to check" });
  });
export type EndStateCheck = z.infer<typeof EndStateCheckSchema>;

/**
 * tool-trace: one fact about the tool calls the agents made, decided by exactly one of
 *  - tool: that tool was called at least `at_least` (default 1) and at most `at_most` times,
 *    counting only calls whose arguments (as JSON) contain `with`; `at_most: 0` means never;
 *  - max_calls: at most this many tool calls in all;
 *  - order: these tools were each called, their first calls in this order.
 */
export const TraceCheckSchema = z
  .strictObject({
    tool: z.string().min(1).optional(),
    with: z.string().min(1).optional(),
    at_least: z.number().int().nonnegative().optional(),
    at_most: z.number().int().nonnegative().optional(),
    max_calls: z.number().int().positive().optional(),
    order: z.array(z.string().min(1)).min(2, "needs at least two tools").optional(),
    weight: checkWeight,
  })
  .superRefine((check, context) => {
    const kinds = (["tool", "max_calls", "order"] as const).filter((key) => check[key] !== undefined);
    if (kinds.length !== 1) {
      context.addIssue({ code: "custom", message: `needs exactly one of tool, max_calls or order (has ${kinds.length ? kinds.join(" and ") : "none"})` });
      return;
    }
    const toolOnly = (["with", "at_least", "at_most"] as const).filter((key) => check[key] !== undefined);
    if (check.tool === undefined && toolOnly.length) context.addIssue({ code: "custom", path: [toolOnly[0]!], message: "belongs to a tool check" });
    if (check.at_least !== undefined && check.at_most !== undefined && check.at_least > check.at_most) context.addIssue({ code: "custom", path: ["at_least"], message: "is larger than at_most" });
  });
export type TraceCheck = z.infer<typeof TraceCheckSchema>;

/**
 * An agentic case's starting point: the files of its workspace (path -> text), copied into a
 * koderz-workspace container where the agents work on the goal with their tools.
 */
export const WorkspaceFilesSchema = z.record(z.string(), z.string()).superRefine((files, context) => {
  const paths = Object.keys(files);
  if (paths.length === 0) context.addIssue({ code: "custom", message: "needs at least one file" });
  const outside = paths.find((p) => !workspacePath.safeParse(p).success);
  if (outside !== undefined) context.addIssue({ code: "custom", message: `${JSON.stringify(outside)} must be a relative path inside the workspace (no /, .., .git)` });
});

/** A known-good tool call of an agentic case: tests replay them to show the case can be solved. */
export const ReferenceCallSchema = z.strictObject({ tool: z.string().min(1), arguments: z.record(z.string(), z.unknown()) });
export type ReferenceCall = z.infer<typeof ReferenceCallSchema>;

/** How a case is scored: the `scorer` name picks the scorer, the other fields are its settings. */
export type ScoringSpec =
  | { scorer: "tests"; test: string }
  | { scorer: "match"; answer: string | number | boolean; match: (typeof MATCH_KINDS)[number]; tolerance: number }
  | { scorer: "rubric"; criteria: Criterion[]; passScore: number }
  | { scorer: "tool-trace"; endState: EndStateCheck[]; trace: TraceCheck[]; passScore: number };

export const SCORER_NAMES = ["tests", "match", "rubric", "tool-trace"] as const;

/** Tool calls an agentic case's agents may make in all unless the case says otherwise: a runaway loop stops here. */
export const DEFAULT_MAX_TOOL_CALLS = 60;

export const SuiteCaseSchema = z.strictObject({
  id: z.string().min(1, "must not be empty"),
  category: z.string().min(1).optional(),
  tier: z.string().min(1).optional(),
  /** Where the case comes from and under what terms (e.g. "written for koderz, MIT"). */
  origin: z.string().min(1).optional(),
  /** The Python stub the agents see: a signature with a docstring, or a class with one (not for agentic cases). */
  prompt: z.string().min(1, "must not be empty").optional(),
  entry_point: identifier.optional(),
  /** agentic: what the agents are asked to do in the workspace. */
  goal: z.string().min(1, "must not be empty").optional(),
  /** agentic: the workspace's files at the start (path -> text). */
  workspace: WorkspaceFilesSchema.optional(),
  /** agentic: the test command the agents are told about (their run_tests tool, the orchestrator's checks). */
  test_command: z.string().min(1).optional(),
  /** agentic: tool calls the agents may make in all (default 60). */
  max_tool_calls: z.number().int().positive().max(1000).optional(),
  /** tool-trace: facts about the workspace when the agents are done. */
  end_state: z.array(EndStateCheckSchema).optional(),
  /** tool-trace: facts about the tool calls the agents made. */
  trace: z.array(TraceCheckSchema).optional(),
  /** agentic: a known-good run as tool calls, replayed by the tests. */
  reference_calls: z.array(ReferenceCallSchema).min(1).optional(),
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
  /** rubric and tool-trace: the 1-5 score at or above which the case counts as solved (default: the suite's; tool-trace: 5, every check). */
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
