import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import { z } from "zod";
import type { Workspace } from "../../../sandbox/workspace.js";
import { readPackageFile } from "../../package-file.js";
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
  const forked = units && units.length > 1 ? await forkedPytest(workspace, test, units, options) : undefined;
  const runs =
    forked ??
    (units
      ? await Promise.all(units.map((file) => limit(() => runUnit(workspace, test, file, commandForTests(test, [file]), options))))
      : [await runUnit(workspace, test, test.command, test.command, options)]);
  return { command: test.command, fileTimeoutSeconds: options.fileTimeoutSeconds, files: runs, seconds: (performance.now() - started) / 1000 };
}

/** Runs named test ids (a rerun, a reproduction): grouped in one command, read per test as a file's run is. */
export async function runTestIds(workspace: Workspace, test: TestCommand, ids: readonly string[], options: SuiteRunOptions): Promise<FileRun> {
  return runUnit(workspace, test, ids.join(" "), commandForTests(test, ids), options);
}

async function runUnit(workspace: Workspace, test: TestCommand, file: string, command: string, options: SuiteRunOptions): Promise<FileRun> {
  const result = await workspace.shell(command, { timeoutSeconds: options.fileTimeoutSeconds, maxOutputBytes: 16 * 1024 * 1024 });
  const output = [result.stdout, result.stderr].filter((s) => s.trim()).join("\n");
  const run = fileRun(test, file, command, { exitCode: result.exitCode, timedOut: result.timedOut, seconds: result.durationMs / 1000 }, output);
  options.onFile?.(run);
  return run;
}

const PYTEST_ARGS = /^(?:python3? -m )?pytest((?:\s+[\w@%+=:,./-]+)*)\s*$/;
const FileMetaSchema = z.object({ file: z.string(), exitCode: z.number(), timedOut: z.boolean(), seconds: z.number() });
const NO_PYTEST = 97;

/**
 * pytest's files in one process that imports pytest once and forks a child per file
 * (pytest-files.py): each file still has its own process and limit, without paying Python's and
 * pytest's start-up per file. Undefined when it cannot be used (a pytest command with quoting,
 * a pytest that python3 cannot import): the files then run as commands of their own.
 */
async function forkedPytest(workspace: Workspace, test: TestCommand, files: readonly string[], options: SuiteRunOptions): Promise<FileRun[] | undefined> {
  const args = test.runner === "pytest" ? PYTEST_ARGS.exec(test.command) : null;
  if (!args) return undefined;
  const parallel = options.parallel ?? defaultFileParallelism();
  const config = { args: [...args[1]!.split(/\s+/).filter(Boolean), "-rA", "-p", "no:cacheprovider"], files, timeout: options.fileTimeoutSeconds, parallel };
  // Every file's limit, one batch of `parallel` after another, and a minute for the driver itself.
  const guard = options.fileTimeoutSeconds * Math.ceil(files.length / parallel) + 60;
  const result = await workspace.exec(["python3", "-", JSON.stringify(config)], { stdin: readPackageFile(import.meta.url, "./pytest-files.py"), timeoutSeconds: guard, maxOutputBytes: 256 * 1024 * 1024 });
  if (result.exitCode === NO_PYTEST) return undefined;
  const runs: FileRun[] = [];
  for (const block of result.stdout.split("@@koderz-file ").slice(1)) {
    const newline = block.indexOf("\n");
    const meta = FileMetaSchema.safeParse(safeJson(block.slice(0, newline)));
    if (!meta.success) continue;
    const output = block.slice(newline + 1).replace(/\n@@koderz-end\n?$/, "");
    const run = fileRun(test, meta.data.file, commandForTests(test, [meta.data.file]), { exitCode: meta.data.exitCode, timedOut: meta.data.timedOut, seconds: meta.data.seconds }, output);
    options.onFile?.(run);
    runs.push(run);
  }
  // The driver itself failed or was stopped: what it did not report runs the slow way.
  const reported = new Set(runs.map((run) => run.file));
  const missing = files.filter((file) => !reported.has(file));
  if (missing.length === files.length) return undefined;
  const rest = await Promise.all(missing.map((file) => runUnit(workspace, test, file, commandForTests(test, [file]), options)));
  const byFile = new Map([...runs, ...rest].map((run) => [run.file, run]));
  return files.map((file) => byFile.get(file)!);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function fileRun(test: TestCommand, file: string, command: string, result: { exitCode: number; timedOut: boolean; seconds: number }, output: string): FileRun {
  const failed = result.timedOut || result.exitCode !== 0;
  return {
    file,
    command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    seconds: result.seconds,
    tests: result.timedOut ? {} : testOutcomes(test, file, output),
    ...(failed ? { tail: output.length > TAIL_CHARS ? `...${output.slice(-TAIL_CHARS)}` : output } : {}),
  };
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
