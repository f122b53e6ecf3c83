import type { Workspace } from "../../../sandbox/workspace.js";
import { readBaseline, writeBaseline, type BaselineKey } from "./baseline-cache.js";
import { fileOf, namedOutcome, readSuite, type SuiteOutcomes } from "./suite-outcomes.js";
import { isTestFile, runTestFiles, runTestIds, splitsByFile, testFilesIn, type FileRun, type SuiteRun } from "./suite-run.js";
import type { TestCommand } from "./test-command.js";
import type { TestRun } from "./workspace-tests.js";

/**
 * The whole suite's tests before and after the change, as the grade needs them: the baseline on
 * the base commit (run once per commit, command, image and time limit, then read from disk), the
 * quick checks after each agent's turn (the named tests, the reproduction and the test files the
 * change touches, compared with the baseline), and the one full run before the final grade.
 */
export interface SuiteTestsOptions {
  fileTimeoutSeconds: number;
  parallel?: number;
  /** Where baselines are kept between solves; none: every solve runs its own. */
  cacheDir?: string;
  /** The base commit and the workspace image's id: the baseline's key with the command and the limit. */
  commit: string;
  imageId: string;
  log(message: string): void;
}

export interface Baseline {
  suite: SuiteRun;
  outcomes: SuiteOutcomes;
  /** Read from an earlier solve's run of the same commit and command. */
  cached: boolean;
}

export class SuiteTests {
  /** Units run so far (a file, a group of named tests): the summary's test runs. */
  runs = 0;
  private base?: Baseline;

  constructor(
    private readonly workspace: Workspace,
    readonly test: TestCommand,
    private readonly options: SuiteTestsOptions,
  ) {}

  get fileTimeoutSeconds(): number {
    return this.options.fileTimeoutSeconds;
  }

  /** The suite on the base commit: from the cache, or run now (before any change) and cached. */
  async baseline(): Promise<Baseline> {
    if (this.base) return this.base;
    const key: BaselineKey = { commit: this.options.commit, command: this.test.command, image: this.options.imageId, fileTimeoutSeconds: this.options.fileTimeoutSeconds };
    const cached = this.options.cacheDir ? readBaseline(this.options.cacheDir, key) : undefined;
    if (cached) {
      this.base = { suite: cached, outcomes: readSuite(cached.files), cached: true };
      return this.base;
    }
    const files = await testFilesIn(this.workspace, this.test);
    this.options.log(`tests: running the suite before any change (${files.length ? `${files.length} test file${files.length === 1 ? "" : "s"}, each` : "one run"} at most ${this.options.fileTimeoutSeconds} s)`);
    const suite = await this.runFiles(files.length ? files : undefined);
    // A baseline in which nothing could run is not kept: the next solve must see the problem again.
    if (this.options.cacheDir && suite.files.some((run) => !run.timedOut)) writeBaseline(this.options.cacheDir, key, suite);
    this.base = { suite, outcomes: readSuite(suite.files), cached: false };
    return this.base;
  }

  /**
   * The suite after the change: every test file now in the workspace, except files that timed out
   * on the base commit and that the change does not touch (they had no passing test to keep,
   * and would only cost their time limit again).
   */
  async afterChange(changedFiles: readonly string[], named: readonly string[]): Promise<{ suite: SuiteRun; skipped: string[] }> {
    const base = await this.baseline();
    if (!splitsByFile(this.test) || base.suite.files.length === 1 && base.suite.files[0]!.file === this.test.command) {
      return { suite: await this.runFiles(undefined), skipped: [] };
    }
    const keep = new Set([...changedFiles, ...named.map(fileOf)]);
    const files = await testFilesIn(this.workspace, this.test);
    const skipped = files.filter((file) => base.outcomes.timedOut.has(file) && !keep.has(file));
    return { suite: await this.runFiles(files.filter((file) => !skipped.includes(file))), skipped };
  }

  /** Runs these files again, or the whole command for a runner that does not split. */
  async rerun(files: readonly string[]): Promise<SuiteRun> {
    return this.runFiles(splitsByFile(this.test) ? files : undefined);
  }

  /** Named tests, in one run read per test. */
  async runIds(ids: readonly string[]): Promise<FileRun> {
    this.runs += 1;
    return runTestIds(this.workspace, this.test, ids, { fileTimeoutSeconds: this.options.fileTimeoutSeconds });
  }

  /**
   * The check after an agent's turn: the named tests and the reproduction (which must pass), and
   * the test files the change touches, compared with the baseline (a test there that passed
   * before must still pass; one that failed before may still fail). With none of these, the whole
   * suite, compared with the baseline the same way.
   */
  async check(ids: readonly string[], changedFiles: readonly string[]): Promise<TestRun> {
    const started = performance.now();
    const base = await this.baseline();
    let passedNamed = true;
    const touched = changedFiles.filter((file) => isTestFile(this.test, file));
    const wholeSuite = ids.length === 0 && touched.length === 0;
    const fileRuns = wholeSuite ? await this.runFiles((await testFilesIn(this.workspace, this.test)).filter((f) => !base.outcomes.timedOut.has(f))) : touched.length ? await this.runFiles(touched) : undefined;
    // A named test in a touched file ran with its file: read from there, not run twice.
    const ranWithFiles = fileRuns ? readSuite(fileRuns.files) : undefined;
    const elsewhere = ids.filter((id) => !touched.includes(fileOf(id)));
    const inTouched = ids.filter((id) => touched.includes(fileOf(id)));
    const named = elsewhere.length ? await this.runIds(elsewhere) : undefined;
    const touchedNamedFailing = ranWithFiles ? inTouched.filter((id) => namedOutcome(id, ranWithFiles) !== "passed") : [];
    if (touchedNamedFailing.length) {
      passedNamed = false;
    }
    const lines: string[] = [];
    let passed = passedNamed;
    if (touchedNamedFailing.length) lines.push(`named tests failing: ${touchedNamedFailing.join(", ")}`);
    if (named) {
      const ok = named.exitCode === 0 && !named.timedOut;
      passed &&= ok;
      lines.push(`$ ${named.command}\n${ok ? "passed" : named.timedOut ? `timed out after ${this.options.fileTimeoutSeconds} s` : `failed (exit ${named.exitCode})`}`, ...(named.tail ? [named.tail] : []));
    }
    if (fileRuns) {
      const after = readSuite(fileRuns.files);
      const broken = [...base.outcomes.tests].filter(([id, record]) => record.outcome === "passed" && fileRuns.files.some((run) => run.file === record.file) && after.tests.get(id)?.outcome !== "passed").map(([id]) => id);
      const timedOut = fileRuns.files.filter((run) => run.timedOut).map((run) => run.file);
      passed &&= broken.length === 0 && timedOut.length === 0;
      const what = wholeSuite ? `the whole suite (${fileRuns.files.length} files)` : `the test files the change touches (${touched.join(", ")})`;
      lines.push(`${what}: ${broken.length ? `${broken.length} test${broken.length === 1 ? "" : "s"} that passed before the change fail now: ${broken.slice(0, 20).join(", ")}` : "no test that passed before the change fails"}${timedOut.length ? `; timed out: ${timedOut.join(", ")}` : ""}`);
      for (const run of fileRuns.files) if (run.tail && (run.timedOut || broken.some((id) => base.outcomes.tests.get(id)?.file === run.file))) lines.push(`$ ${run.command}\n${run.tail}`);
    }
    const commands = [...(named ? [named.command] : []), ...(fileRuns ? [wholeSuite ? `${this.test.command} (each test file)` : `${this.test.command} ${touched.join(" ")} (each file)`] : [])];
    return {
      command: commands.join(" ; "),
      passed,
      exitCode: passed ? 0 : 1,
      timedOut: (named?.timedOut ?? false) || (fileRuns?.files.some((run) => run.timedOut) ?? false),
      output: lines.join("\n"),
      durationMs: performance.now() - started,
    };
  }

  /**
   * Whether the reproduction tests fail without the change: the changed files other than the
   * reproduction's own go back to the base commit while they run, then the change is put back.
   */
  async reproductionBeforeChange(ids: readonly string[], changedFiles: readonly string[]): Promise<FileRun> {
    const own = new Set(ids.map(fileOf));
    const source = changedFiles.filter((file) => !own.has(file));
    return this.workspace.withFilesAtBase(source, () => this.runIds(ids));
  }

  private async runFiles(files: readonly string[] | undefined): Promise<SuiteRun> {
    const suite = await runTestFiles(this.workspace, this.test, files, { fileTimeoutSeconds: this.options.fileTimeoutSeconds, parallel: this.options.parallel });
    this.runs += suite.files.length;
    return suite;
  }
}
