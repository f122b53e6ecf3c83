import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { extractVisibleExamples } from "./docstring-examples.js";
import { loadSuite, type LoadSuiteOptions } from "./load.js";
import { DEFAULT_MAX_TOOL_CALLS, DEFAULT_PASS_SCORE, SuiteFileSchema, type ScoringSpec, type SuiteCase, type SuiteFile } from "./suite-schema.js";
import type { Task } from "./task.js";

/** A suite read from its file: its tasks, and what a run needs to know about it. */
export interface LoadedSuite {
  name: string;
  /** The file it was read from (absolute). */
  file: string;
  description?: string;
  /** The suite's own mode, for runs that give no --mode. */
  solverMode?: string;
  tasks: Task[];
}

const SUITE_EXTENSIONS = [".yaml", ".yml", ".json"];

/** The folder of built-in suites: beside this module from source, two levels up from dist/tasks/. */
export function builtInSuitesDir(): string {
  const candidates = [new URL("./suites/", import.meta.url), new URL("../../tasks/suites/", import.meta.url)];
  for (const candidate of candidates) {
    const dir = fileURLToPath(candidate);
    if (existsSync(dir)) return dir;
  }
  throw new KoderzError("internal", `tasks/suites/ not found beside ${fileURLToPath(import.meta.url)}; the package is incomplete`);
}

/** The names of the built-in suites, for help and error messages. */
export function builtInSuiteNames(): string[] {
  return readdirSync(builtInSuitesDir())
    .filter((file) => SUITE_EXTENSIONS.includes(path.extname(file)))
    .map((file) => path.basename(file, path.extname(file)))
    .sort();
}

/**
 * The file a --suite value means: a path when it names an existing file (or looks like one),
 * else a built-in suite by name.
 */
export function resolveSuiteFile(nameOrPath: string): string {
  const looksLikePath = nameOrPath.includes("/") || nameOrPath.includes(path.sep) || SUITE_EXTENSIONS.includes(path.extname(nameOrPath));
  if (looksLikePath || existsSync(nameOrPath)) {
    const file = path.resolve(nameOrPath);
    if (!existsSync(file)) throw new KoderzError("not_found", `no suite file at ${file}`, "give the path of a .yaml or .json suite file, or a built-in suite name");
    return file;
  }
  const dir = builtInSuitesDir();
  for (const extension of SUITE_EXTENSIONS) {
    const file = path.join(dir, nameOrPath + extension);
    if (existsSync(file)) return file;
  }
  throw new KoderzError("usage", `no suite named ${nameOrPath}`, `built-in suites: ${builtInSuiteNames().join(", ")}; or give the path of a suite file`);
}

/** Reads, checks and loads a suite; a bad file is one error naming the file, the case and the field. */
export async function loadSuiteDefinition(nameOrPath: string, datasets: Omit<LoadSuiteOptions, "suite"> = {}): Promise<LoadedSuite> {
  const file = resolveSuiteFile(nameOrPath);
  const suite = readSuiteFile(file);
  const tasks = suite.dataset ? await loadSuite({ ...datasets, suite: suite.dataset }) : casesToTasks(file, suite);
  // A dataset suite keeps the dataset's name on its tasks: the time limits and verdicts are HumanEval's.
  return { name: suite.name, file, description: suite.description, solverMode: suite.solver?.mode, tasks };
}

/** Parses and checks a suite file without loading any dataset. */
export function readSuiteFile(file: string): SuiteFile {
  const size = statSync(file).size;
  if (size > MAX_SUITE_FILE_BYTES) {
    throw new KoderzError("usage", `${file}: the suite file is ${(size / 1024 ** 2).toFixed(1)} MB, over the ${MAX_SUITE_FILE_BYTES / 1024 ** 2} MB a suite file may be`, "split the suite into several files, or keep large data out of its cases");
  }
  const text = readFileSync(file, "utf8");
  const raw = path.extname(file) === ".json" ? parseJson(file, text) : parseYaml(file, text);
  const parsed = SuiteFileSchema.safeParse(raw);
  if (!parsed.success) throw suiteError(file, raw, parsed.error);
  const seen = new Set<string>();
  (parsed.data.cases ?? []).forEach((suiteCase, index) => {
    if (seen.has(suiteCase.id)) throw caseError(file, suiteCase.id, index, "id", "appears twice in the suite");
    seen.add(suiteCase.id);
    checkCaseShape(file, suiteCase, index);
    scoringOf(file, parsed.data, suiteCase, index);
  });
  return parsed.data;
}

function casesToTasks(file: string, suite: SuiteFile): Task[] {
  return (suite.cases ?? []).map((suiteCase, index) => {
    const scoring = scoringOf(file, suite, suiteCase, index);
    const common = { id: `${suite.name}/${suiteCase.id}`, index, suite: suite.name, category: suiteCase.category, tier: suiteCase.tier, scoring };
    if (suiteCase.workspace) {
      // An agentic case: its goal is the prompt, and it has no function to call.
      return {
        ...common,
        prompt: suiteCase.goal!,
        entryPoint: "",
        canonicalSolution: "",
        visibleExamples: [],
        hiddenTest: "",
        workspace: { files: suiteCase.workspace, ...(suiteCase.test_command ? { testCommand: suiteCase.test_command } : {}), maxToolCalls: suiteCase.max_tool_calls ?? DEFAULT_MAX_TOOL_CALLS },
      };
    }
    return {
      ...common,
      ...(suiteCase.timeout !== undefined ? { timeoutSeconds: suiteCase.timeout } : {}),
      prompt: suiteCase.prompt!,
      entryPoint: suiteCase.entry_point!,
      canonicalSolution: suiteCase.reference ?? "",
      visibleExamples: extractVisibleExamples(suiteCase.prompt!, suiteCase.entry_point!),
      // Auto mode's episodes grade with hiddenTest directly, so a tests case carries its test there too.
      hiddenTest: scoring.scorer === "tests" ? scoring.test : "",
    };
  });
}

// Fields only a function case has, and fields only an agentic case (one with a workspace) has.
const FUNCTION_FIELDS = ["prompt", "entry_point", "reference", "test", "answer", "match", "tolerance", "criteria"] as const;
const AGENTIC_FIELDS = ["goal", "test_command", "max_tool_calls", "end_state", "trace", "reference_calls"] as const;

/** A case is either a function to write (prompt, entry_point) or work in a workspace (workspace, goal), never half of each. */
function checkCaseShape(file: string, suiteCase: SuiteCase, index: number): void {
  const agentic = suiteCase.workspace !== undefined;
  const foreign = (agentic ? FUNCTION_FIELDS : AGENTIC_FIELDS).find((field) => suiteCase[field] !== undefined);
  if (foreign) throw caseError(file, suiteCase.id, index, foreign, agentic ? "does not belong in an agentic case (one with a workspace)" : "belongs to agentic cases, which need a workspace");
  const required = agentic ? (["goal"] as const) : (["prompt", "entry_point"] as const);
  for (const field of required) if (suiteCase[field] === undefined) throw caseError(file, suiteCase.id, index, field, agentic ? "is required in an agentic case" : "is required");
}

/** The case's scorer with the settings it needs, or an error naming the missing field. */
function scoringOf(file: string, suite: SuiteFile, suiteCase: SuiteCase, index: number): ScoringSpec {
  const scorer = suiteCase.scorer ?? suite.scorer;
  if (suiteCase.workspace && scorer !== "tool-trace") throw caseError(file, suiteCase.id, index, "scorer", `is ${scorer ?? "not set"}; an agentic case (one with a workspace) is scored by tool-trace`);
  const need = <T>(field: keyof SuiteCase, value: T | undefined): T => {
    if (value === undefined) throw caseError(file, suiteCase.id, index, field, `is required by the ${scorer} scorer`);
    return value;
  };
  switch (scorer) {
    case "tests":
      return { scorer, test: need("test", suiteCase.test) };
    case "match":
      return { scorer, answer: need("answer", suiteCase.answer), match: suiteCase.match ?? "exact", tolerance: suiteCase.tolerance ?? 1e-6 };
    case "rubric":
      return { scorer, criteria: need("criteria", suiteCase.criteria), passScore: suiteCase.pass_score ?? suite.pass_score ?? DEFAULT_PASS_SCORE };
    case "tool-trace":
      need("workspace", suiteCase.workspace);
      if (!suiteCase.end_state?.length && !suiteCase.trace?.length) throw caseError(file, suiteCase.id, index, "end_state", "the tool-trace scorer needs at least one end_state or trace check");
      // Every check must hold unless the case settles for less.
      return { scorer, endState: suiteCase.end_state ?? [], trace: suiteCase.trace ?? [], passScore: suiteCase.pass_score ?? 5 };
    case undefined:
      throw caseError(file, suiteCase.id, index, "scorer", "is not set on the case nor on the suite (tests, match, rubric or tool-trace)");
  }
}

function caseError(file: string, caseId: string, index: number, field: string, message: string): KoderzError {
  return new KoderzError("usage", `${file}: case ${JSON.stringify(caseId)} (cases[${index}]), field ${field}: ${message}`, "fix the suite file; see tasks/suites/ for working examples");
}

/** The first problem zod found, as file + case + field; how many more there are. */
function suiteError(file: string, raw: unknown, error: z.ZodError): KoderzError {
  const issue = error.issues[0]!;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? "s" : ""})` : "";
  const [top, index, ...rest] = issue.path;
  if (top === "cases" && typeof index === "number") {
    const cases = (raw as { cases?: unknown[] }).cases;
    const id = (cases?.[index] as { id?: unknown } | undefined)?.id;
    return caseError(file, typeof id === "string" ? id : "?", index, fieldPath(rest) || "(the case)", issue.message + more);
  }
  return new KoderzError("usage", `${file}: field ${fieldPath(issue.path) || "(the file)"}: ${issue.message}${more}`, "fix the suite file; see tasks/suites/ for working examples");
}

function fieldPath(parts: readonly PropertyKey[]): string {
  return parts.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i ? "." : ""}${String(part)}`)).join("");
}

/** Far above any real suite (the coder rubric is ~30 KB): a file larger than this is not one. */
export const MAX_SUITE_FILE_BYTES = 16 * 1024 ** 2;

/**
 * YAML that is malformed in any way is one error naming the file: bad syntax (with its line), an
 * alias bomb (the parser stops expanding at 100 aliases), nesting deep enough to exhaust the
 * parser's stack, or anything else the parser throws.
 */
function parseYaml(file: string, text: string): unknown {
  // Required here, not imported at the top: only a YAML suite file pays for the parser's 70 files.
  const { parseDocument } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const refuse = (where: string, message: string) => {
    const reason = /call stack/i.test(message) ? "it is nested too deeply to read" : message.split("\n")[0]!;
    return new KoderzError("usage", `${file}${where}: not valid YAML: ${reason}`, "fix the suite file's syntax; a suite needs no YAML aliases (*name) nor deep nesting");
  };
  try {
    const document = parseDocument(text);
    const problem = document.errors[0];
    if (problem) throw refuse(problem.linePos?.[0] ? `:${problem.linePos[0].line}:${problem.linePos[0].col}` : "", problem.message);
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof KoderzError) throw error;
    // ReferenceError for an alias bomb, RangeError for a stack the nesting ran out of.
    throw refuse("", /alias count/i.test(String(error)) ? "it expands YAML aliases more than 100 times (an alias bomb)" : error instanceof Error ? error.message : String(error));
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (/call stack/i.test(String(error))) throw new KoderzError("usage", `${file}: not valid JSON: it is nested too deeply to read`, "fix the suite file's syntax");
    throw new KoderzError("usage", `${file}: not valid JSON: ${(error as Error).message}`, "fix the suite file's syntax");
  }
}

/**
 * The tasks a stored run config names: a suite file (`--suite`, kept as the name or absolute path
 * the user gave) or, for runs started with --dataset, a HumanEval-format dataset.
 */
export async function loadConfiguredTasks(config: { suite: string; suiteSource?: string; datasetPath?: string }): Promise<Task[]> {
  if (config.suiteSource) return (await loadSuiteDefinition(config.suiteSource, { dataset: config.datasetPath })).tasks;
  return loadSuite({ suite: config.suite === "humaneval+" ? "humaneval+" : "humaneval", dataset: config.datasetPath });
}
