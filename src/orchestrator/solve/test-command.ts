import { z } from "zod";
import { KoderzError } from "../../errors.js";

/**
 * The repository's test command: given with --test-cmd, or detected from the files at the base
 * commit. Knowing the runner lets koderz run single tests (FAIL_TO_PASS ids) and tell "the tests
 * fail" (expected before a fix) from "the tests cannot run at all" (a setup problem to report).
 */
export type TestRunner = "pytest" | "npm" | "go" | "cargo" | "custom";

export interface TestCommand {
  command: string;
  runner: TestRunner;
}

const NO_TEST_SCRIPT = /no test specified/;
const PackageJsonSchema = z.object({ scripts: z.record(z.string(), z.string()).optional() });

export interface RepoFiles {
  /** Every tracked path at the base commit. */
  paths: string[];
  /** Reads a file at the base commit; undefined when it is not there. */
  read(path: string): Promise<string | undefined>;
}

/** --test-cmd, classified by its first word so single tests can still be addressed. */
export function givenTestCommand(command: string): TestCommand {
  const trimmed = command.trim();
  if (/^(python3? -m )?pytest\b/.test(trimmed)) return { command: trimmed, runner: "pytest" };
  if (/^npm (run )?test\b/.test(trimmed)) return { command: trimmed, runner: "npm" };
  return { command: trimmed, runner: "custom" };
}

export async function detectTestCommand(files: RepoFiles): Promise<TestCommand> {
  const has = (name: string) => files.paths.includes(name);
  const pythonTests = files.paths.some((p) => /(^|\/)(test_[^/]*|[^/]*_test)\.py$/.test(p) || /(^|\/)conftest\.py$/.test(p));
  const pytestConfig = has("pytest.ini") || (await mentions(files, "pyproject.toml", "[tool.pytest")) || (await mentions(files, "setup.cfg", "[tool:pytest]")) || (await mentions(files, "tox.ini", "[pytest]"));
  if (pythonTests || pytestConfig) return { command: "python3 -m pytest -q", runner: "pytest" };
  if (has("package.json")) {
    const parsed = PackageJsonSchema.safeParse(parseJson((await files.read("package.json")) ?? ""));
    const script = parsed.success ? parsed.data.scripts?.test : undefined;
    if (script && !NO_TEST_SCRIPT.test(script)) return { command: "npm test", runner: "npm" };
  }
  if (has("go.mod")) return { command: "go test ./...", runner: "go" };
  if (has("Cargo.toml")) return { command: "cargo test", runner: "cargo" };
  throw new KoderzError(
    "bad_input",
    "no test command found in the repository (no pytest tests, npm test script, go.mod or Cargo.toml)",
    "pass the command with --test-cmd, e.g. --test-cmd 'make test'",
  );
}

/** The command line that runs only these tests. pytest reports each one (-rA) so one run answers for all. */
export function commandForTests(test: TestCommand, ids: readonly string[]): string {
  const quoted = ids.map(shellQuote).join(" ");
  switch (test.runner) {
    case "pytest":
      return `${test.command} -rA -p no:cacheprovider ${quoted}`;
    case "npm":
      return `${test.command} -- ${quoted}`;
    default:
      return `${test.command} ${quoted}`;
  }
}

/** Why the test command cannot run at all, or undefined when it ran (passing or failing). */
export function cannotRunReason(test: TestCommand, result: { exitCode: number; timedOut: boolean; output: string }): string | undefined {
  if (result.timedOut) return "it did not finish within the test time limit";
  if (result.exitCode === 126 || result.exitCode === 127) return `the command was not found or not executable (exit ${result.exitCode})`;
  if (/No module named pytest/.test(result.output)) return "pytest is not installed in the image";
  if (test.runner === "pytest" && (result.exitCode === 3 || result.exitCode === 4 || result.exitCode === 5)) {
    return result.exitCode === 5 ? "pytest found no tests" : `pytest stopped with a usage or internal error (exit ${result.exitCode})`;
  }
  if (test.runner === "npm" && /Missing script|ENOENT.*package\.json/.test(result.output)) return "npm could not start the test script";
  return undefined;
}

export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function mentions(files: RepoFiles, path: string, text: string): Promise<boolean> {
  if (!files.paths.includes(path)) return false;
  return ((await files.read(path)) ?? "").includes(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
