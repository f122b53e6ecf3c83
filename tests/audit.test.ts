import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Program, RunOptions, Sandbox, Verdict } from "../sandbox/sandbox.js";
import { registerAudit } from "../src/cli/audit.js";
import { AuditReportSchema, type AuditReport } from "../src/evaluation/audit/audit-report.js";
import { BatchingSandbox } from "../src/evaluation/audit/batching-sandbox.js";
import { CHEATS } from "../src/evaluation/audit/cheats.js";
import { loadSuiteFile } from "../tasks/load.js";
import { loadSuiteDefinition } from "../tasks/suite-file.js";
import type { Task } from "../tasks/task.js";
import { humanEvalFile, humanEvalPlusFile } from "./fixtures/datasets.js";
import { runInProcess, type CliResult } from "./fixtures/in-process-cli.js";
import { requireDockerSandbox } from "./helpers/docker.js";
import { expectContractDocument } from "./helpers/json-contract.js";
import { enterOfflineWorkDir } from "./helpers/offline-work-dir.js";

let work: string;
let restoreEnv: () => void;
beforeAll(() => {
  ({ dir: work, restore: restoreEnv } = enterOfflineWorkDir("koderz-audit-"));
});
afterAll(() => restoreEnv());

function audit(args: string[]): Promise<CliResult> {
  return runInProcess((program) => registerAudit(program), ["audit", ...args]);
}

function reportOf(run: CliResult): AuditReport {
  expect(run.error).toBeUndefined();
  expect(run.exitCode).toBe(0);
  const json = JSON.parse(run.stdout) as unknown;
  expectContractDocument("audit", json);
  return AuditReportSchema.parse(json);
}

const passedBy = (report: AuditReport) => Object.fromEntries(report.cases.map((c) => [c.caseId, c.passedBy]));

describe("the cheats", () => {
  it("are Python that compiles after every prompt of every shipped suite (a cheat that cannot load would hide what it tests)", async () => {
    const tasks: Task[] = [
      ...(await loadSuiteFile(humanEvalFile, "humaneval")),
      ...(await loadSuiteDefinition("coder-rubric")).tasks,
      ...(await loadSuiteDefinition("mixed")).tasks.filter((task) => !task.workspace),
    ];
    const programs = tasks.flatMap((task) => CHEATS.flatMap((cheat) => {
      const completion = cheat.completion(task);
      return completion === undefined ? [] : [{ name: `${task.id} ${cheat.name}`, source: `${task.prompt}${completion}` }];
    }));
    const script = "import json, sys\nfor p in json.load(sys.stdin):\n    try:\n        compile(p['source'], p['name'], 'exec')\n    except SyntaxError as e:\n        print(p['name'], e)\n";
    expect(execFileSync("python3", ["-c", script], { input: JSON.stringify(programs) }).toString()).toBe("");
    // Helpers are attacked where the prompt gives some (HumanEval's encoders and polynomial), and nowhere else.
    const helperCases = tasks.filter((task) => CHEATS.find((c) => c.name === "redefines-helpers-zero")!.completion(task) !== undefined).map((t) => t.id);
    expect(helperCases).toEqual(expect.arrayContaining(["HumanEval/32", "HumanEval/38", "HumanEval/50"]));
    expect(helperCases).not.toContain("HumanEval/0");
  });
});

describe("BatchingSandbox", () => {
  it("runs the programs of many callers as one batch and gives each caller its own verdicts under its own ids", async () => {
    const batches: Program[][] = [];
    const inner: Sandbox = {
      name: "process",
      async run(programs: Program[], options?: RunOptions): Promise<Verdict[]> {
        batches.push(programs);
        const verdicts = programs.map((p) => ({ id: p.id, status: "passed" as const, result: `ran ${p.source}`, passed: true, durationMs: 1, output: "" }));
        verdicts.forEach((v) => options?.onVerdict?.(v));
        return [...verdicts].reverse(); // in any order: they are matched by id
      },
      close: async () => undefined,
    };
    const batching = new BatchingSandbox(inner);
    const seen: string[] = [];
    const [first, second] = await Promise.all([
      batching.run([{ id: "same", source: "a", timeoutSeconds: 3 }, { id: "b", source: "b", timeoutSeconds: 3 }]),
      batching.run([{ id: "same", source: "c", timeoutSeconds: 3 }], { onVerdict: (v) => seen.push(v.id) }),
    ]);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(3);
    expect(first!.map((v) => [v.id, v.result])).toEqual([["same", "ran a"], ["b", "ran b"]]);
    expect(second!.map((v) => [v.id, v.result])).toEqual([["same", "ran c"]]);
    expect(seen).toEqual(["same"]);
  });
});

describe("koderz audit", () => {
  beforeAll(async () => {
    await requireDockerSandbox();
  });

  // HumanEval+ 2, 4 and 45 expect a float for every input, and their assertion() called
  // np.allclose([], expected), which is vacuously true; 3 (an int) is the control.
  describe.each(["docker", "process"])("humaneval+ in the %s sandbox", (sandbox) => {
    const args = ["humaneval+", "--cases", "2:5,45", "--cheats", "constant-empty-list,constant-none,constant-zero", "--sandbox", sandbox, "--json"];

    it("lists the vacuous tasks before the errata: `return []` passes 2, 4 and 45", async () => {
      const report = reportOf(await audit([...args, "--no-errata"]));
      expect(report.errata).toBe(false);
      expect(passedBy(report), JSON.stringify(report.cases.map((c) => [c.caseId, c.reference, c.verdicts]))).toEqual({
        "HumanEval/2": ["constant-empty-list"],
        "HumanEval/3": [],
        "HumanEval/4": ["constant-empty-list"],
        "HumanEval/45": ["constant-empty-list"],
      });
      expect(report.cheatable).toEqual({ count: 3, share: 0.75 });
      expect(report.cheatableByTarget.test).toEqual({ count: 3, share: 0.75 });
      expect(report.referenceFailures).toEqual([]);
    });

    it("lists none after the errata, and every reference still passes", async () => {
      const report = reportOf(await audit(args));
      expect(report.errata).toBe(true);
      expect(report.cases.map((c) => c.caseId)).toEqual(["HumanEval/2", "HumanEval/3", "HumanEval/4", "HumanEval/45"]);
      expect(report.cases.every((c) => c.reference?.passed === true)).toBe(true);
      expect(report.cheatable, JSON.stringify(report.cases.map((c) => [c.caseId, c.verdicts]))).toEqual({ count: 0, share: 0 });
      expect(report.cases.find((c) => c.caseId === "HumanEval/2")!.verdicts["constant-empty-list"]).toContain("shape");
    });
  });

  it("reports a user suite's weak test, its judge-only rubric criteria and an agentic case that needs no work, in text", async () => {
    const file = path.join(work, "weak.yaml");
    writeFileSync(
      file,
      [
        "name: weak",
        "scorer: tests",
        "cases:",
        "  - id: weak-test",
        "    prompt: |",
        "      def double(n):",
        '          """Return twice n."""',
        "    entry_point: double",
        "    reference: |2",
        "          return 2 * n",
        "    test: |",
        "      def check(candidate):",
        "          assert candidate(2) is not None",
        "  - id: strong-test",
        "    prompt: |",
        "      def double(n):",
        '          """Return twice n."""',
        "    entry_point: double",
        "    reference: |2",
        "          return 2 * n",
        "    test: |",
        "      def check(candidate):",
        "          assert candidate(2) == 4 and candidate(-3) == -6",
        "  - id: rubric",
        "    scorer: rubric",
        "    prompt: |",
        "      def double(n):",
        '          """Return twice n."""',
        "    entry_point: double",
        "    reference: |2",
        "          return 2 * n",
        "    criteria:",
        "      - name: right values",
        "        weight: 1",
        "        check: |",
        "          assert double(4) == 8",
        "      - name: clear code",
        "        weight: 3",
        "        judge: Is it clear?",
        "  - id: agentic",
        "    goal: write a file",
        "    workspace:",
        "      README.md: hello",
        "    scorer: tool-trace",
        "    end_state:",
        "      - file: out.txt",
        "  - id: untouched",
        "    goal: say hello in README.md",
        "    workspace:",
        "      README.md: hello",
        "    scorer: tool-trace",
        "    end_state:",
        "      - file: README.md",
        "        contains: hello",
      ].join("\n") + "\n",
    );
    const run = await audit([file, "--cheats", "constant-zero,constant-true,does-nothing", "--sandbox", "docker"]);
    expect(run.error).toBeUndefined();
    const lines = run.stdout.split("\n");
    expect(lines.find((line) => line.includes("weak/weak-test"))).toMatch(/wrong answer: constant-zero, constant-true/);
    expect(lines.some((line) => line.includes("weak/strong-test"))).toBe(false);
    // An agentic case whose checks already hold on the files it starts with needs no work at all.
    expect(lines.find((line) => line.includes("weak/untouched"))).toMatch(/wrong answer: does-nothing/);
    expect(lines.some((line) => /weak\/agentic\s/.test(line))).toBe(false);
    expect(run.stdout).toMatch(/cheatable: 2 of 5 cases \(0\.400\)/);
    // Three quarters of the rubric's weight is the judge's: a fooled judge passes a constant.
    expect(run.stdout).toMatch(/if the judge model gives it full marks:\n\s+weak\/rubric\s+constant-zero, constant-true/);
    expect(run.stdout).toMatch(/criteria only a judge model decides[^]*weak\/rubric\s+clear code/);
    expect(run.stdout).not.toContain("not audited");
    expect(run.stdout).toContain("every case's reference passes");

    // The process sandbox has no workspace containers: its agentic cases are listed, with why.
    const local = await audit([file, "--cheats", "does-nothing", "--sandbox", "process"]);
    expect(local.stdout).toMatch(/not audited: 2 cases\n\s+weak\/agentic\s+agentic case: its workspace is a Docker container/);
  });

  it("refuses an unknown cheat and a case range outside the suite as usage errors", async () => {
    const unknown = await audit(["humaneval", "--cheats", "constant-nothing"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("no cheat named constant-nothing");
    expect(unknown.stderr).toContain("constant-none");
    const outside = await audit(["humaneval", "--cases", "160:170"]);
    expect(outside.exitCode).toBe(2);
    expect(outside.stderr).toContain("164 problems");
  });
});

// The HumanEval+ file itself, for a reader: its assertion() is where the vacuity lived.
it("the published HumanEval+ file still holds the helper the errata correct (so the test above audits the real mistake)", async () => {
  const [published] = (await loadSuiteFile(humanEvalPlusFile, "humaneval+", { errata: false })).filter((task) => task.id === "HumanEval/2");
  expect(published!.hiddenTest).toContain("assert np.allclose(out, exp, rtol=1e-07, atol=atol)");
  const [corrected] = (await loadSuiteFile(humanEvalPlusFile, "humaneval+")).filter((task) => task.id === "HumanEval/2");
  expect(corrected!.hiddenTest).toContain("np.shape(out) == np.shape(exp)");
});
