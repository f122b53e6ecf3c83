import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import type { Workspace } from "../../../sandbox/workspace.js";
import { commandForTests, type TestCommand } from "./test-command.js";
import { parsePytestLog, parseTapLog } from "./test-log-parsers.js";

/**
 * The repository's whole suite, run one test file at a time, each under its own time limit, a
 * few files side by side. One run of a whole suite can hang on one file (pydicom's suite waits
 * forever on data downloads offline, while its other files finish in a second); run file by
 * file, a hung file costs its own limit and is reported, and every other file still answers.
 *
 * Runners koderz can address file by file (pytest; npm test scripts, which pass file arguments
 * on) are split into files; any other command (go test, cargo test, a custom command) runs as
 * one unit, named by its command, under the same limit.
 */
export type TestOutcome = "passed" | "failed" | "skipped";

export interface FileRun {
  /** The test file, or for a runner koderz cannot split, the whole command. */
  file: string;
  command: string;
  exitCode: number;
  timedOut: boolean;
  seconds: number;
  /** Each test's outcome by id (pytest's node id; for node's runner file::name). Empty when the output names none. */
  tests: Record<string, TestOutcome>;
  /** The end of what the file printed, kept only when it failed or timed out. */
  tail?: string;
}

export interface SuiteRun {
  /** The repository's test command the files ran with. */
  command: string;
  fileTimeoutSeconds: number;
  files: FileRun[];
  seconds: number;
}

const TAIL_CHARS = 3_000;
const PYTHON_TEST_FILE = /(^|\/)(test_[^/]*|[^/]*_test)\.py$/;
const JS_TEST_FILE = /(^|\/)([^/]*[.-](test|spec)\.[cm]?[jt]sx?|test\/[^/]*\.[cm]?js)$/;
const IGNORED_DIRS = /(^|\/)(node_modules|\.git|\.venv|venv|build|dist)\//;

/** Test files can run side by side: the machine's cores, at most four (test runs share the container's memory). */
export function defaultFileParallelism(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Whether koderz can run this command file by file. */
export function splitsByFile(test: TestCommand): boolean {
  return test.runner === "pytest" || test.runner === "npm";
}

/** The test files in the workspace (tracked and new), as the runner would find them; empty for runners that do not split. */
export async function testFilesIn(workspace: Workspace, test: TestCommand): Promise<string[]> {
  if (!splitsByFile(test)) return [];
  const listed = await workspace.exec(["git", "ls-files", "--cached", "--others", "--exclude-standard"], { maxOutputBytes: 64 * 1024 * 1024 });
  const pattern = test.runner === "pytest" ? PYTHON_TEST_FILE : JS_TEST_FILE;
  return listed.stdout
    .split("\n")
    .filter((file) => file && pattern.test(file) && !IGNORED_DIRS.test(file))
    .sort();
}

/** Whether a path is a test file the runner would collect (a changed file that is a test runs in every check). */
export function isTestFile(test: TestCommand, file: string): boolean {
  if (test.runner === "pytest") return PYTHON_TEST_FILE.test(file);
  if (test.runner === "npm") return JS_TEST_FILE.test(file);
  return false;
}

export interface SuiteRunOptions {
  fileTimeoutSeconds: number;
  parallel?: number;
  /** Told as each file finishes (progress for a long suite). */
  onFile?(run: FileRun): void;
}

/**
 * Runs these files (each on its own), or the whole command as one unit when `files` is
 * undefined or the runner does not split. The order of the answer is the order asked.
 */
export async function runTestFiles(workspace: Workspace, test: TestCommand, files: readonly string[] | undefined, options: SuiteRunOptions): Promise<SuiteRun> {
  const started = performance.now();
  const units = files && splitsByFile(test) ? files : undefined;
  const limit = pLimit(options.parallel ?? defaultFileParallelism());
  const runs = units
    ? await Promise.all(units.map((file) => limit(() => runUnit(workspace, test, file, commandForTests(test, [file]), options))))
    : [await runUnit(workspace, test, test.command, test.command, options)];
  return { command: test.command, fileTimeoutSeconds: options.fileTimeoutSeconds, files: runs, seconds: (performance.now() - started) / 1000 };
}

/** Runs named test ids (a rerun, a reproduction): grouped in one command, read per test as a file's run is. */
export async function runTestIds(workspace: Workspace, test: TestCommand, ids: readonly string[], options: SuiteRunOptions): Promise<FileRun> {
  return runUnit(workspace, test, ids.join(" "), commandForTests(test, ids), options);
}

async function runUnit(workspace: Workspace, test: TestCommand, file: string, command: string, options: SuiteRunOptions): Promise<FileRun> {
  const result = await workspace.shell(command, { timeoutSeconds: options.fileTimeoutSeconds, maxOutputBytes: 16 * 1024 * 1024 });
  const output = [result.stdout, result.stderr].filter((s) => s.trim()).join("\n");
  const tests = result.timedOut ? {} : testOutcomes(test, file, output);
  const failed = result.timedOut || result.exitCode !== 0;
  const run: FileRun = {
    file,
    command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    seconds: result.durationMs / 1000,
    tests,
    ...(failed ? { tail: output.length > TAIL_CHARS ? `...${output.slice(-TAIL_CHARS)}` : output } : {}),
  };
  options.onFile?.(run);
  return run;
}

/** Per-test outcomes from the runner's output; pytest's -rA summary, or node's TAP lines. */
function testOutcomes(test: TestCommand, file: string, output: string): Record<string, TestOutcome> {
  const outcomes: Record<string, TestOutcome> = {};
  if (test.runner === "pytest") {
    for (const [id, status] of parsePytestLog(output)) outcomes[id] = status === "PASSED" || status === "XFAIL" ? "passed" : status === "SKIPPED" ? "skipped" : "failed";
  } else if (test.runner === "npm") {
    for (const [name, status] of parseTapLog(output)) outcomes[`${file}::${name}`] = status;
  }
  return outcomes;
}
