import type { TestRunReport } from "../../../agents/tools/tool.js";
import type { Workspace } from "../../../sandbox/workspace.js";
import { commandForTests, type TestCommand } from "./test-command.js";

export interface TestRun extends TestRunReport {
  durationMs: number;
}

/** The repository's tests, run inside the workspace under the --test-timeout limit. */
export class WorkspaceTests {
  /** Test runs so far, by anyone: the summary's "tests run". */
  runs = 0;

  constructor(
    private readonly workspace: Workspace,
    readonly test: TestCommand,
    private readonly timeoutSeconds: number,
  ) {}

  /** The whole suite, or only the named tests. */
  run(ids?: readonly string[]): Promise<TestRun> {
    return this.runCommand(ids?.length ? commandForTests(this.test, ids) : this.test.command);
  }

  /** Any test command line (the SWE-bench harness's), under the same limit and counted the same. */
  async runCommand(command: string): Promise<TestRun> {
    this.runs += 1;
    const result = await this.workspace.shell(command, { timeoutSeconds: this.timeoutSeconds });
    const output = [result.stdout, result.stderr].filter((s) => s.trim()).join("\n");
    return {
      command,
      passed: result.exitCode === 0 && !result.timedOut,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      output: result.timedOut ? `${output}\n(stopped after ${this.timeoutSeconds} s)` : output,
      durationMs: result.durationMs,
    };
  }
}
