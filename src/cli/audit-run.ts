import path from "node:path";
import cliProgress from "cli-progress";
import type { Sandbox } from "../../sandbox/sandbox.js";
import { openSandbox as openNamedSandbox } from "../../sandbox/select.js";
import { loadSuiteFile, resolveDataset, selectRange } from "../../tasks/load.js";
import { loadSuiteDefinition, readSuiteFile, resolveSuiteFile } from "../../tasks/suite-file.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { auditReport, type AuditReport } from "../evaluation/audit/audit-report.js";
import { auditSuite } from "../evaluation/audit/audit-suite.js";
import { CHEATS, cheatsNamed, type Cheat } from "../evaluation/audit/cheats.js";
import { onDemandTimeLimits } from "../evaluation/time-limits.js";
import type { AuditFlags, CaseSpan } from "./audit-flags.js";
import type { SandboxOpener } from "./evaluate-flags.js";
import { interruptOnCtrlC } from "./interrupt.js";

interface LoadedForAudit {
  name: string;
  source: string;
  tasks: Task[];
  /** HumanEval+: limits scale per task, as `koderz evaluate` scales them. */
  scaledLimits: boolean;
}

/** `koderz audit` once its flags are checked. */
export async function runAudit(suiteArgument: string, options: AuditFlags, openSandbox: SandboxOpener = (name, notice) => openNamedSandbox(name, { onNotice: notice })): Promise<void> {
  const notice = (message: string) => process.stderr.write(`${message}\n`);
  const cheats = chosenCheats(options.cheats);
  const loaded = await loadForAudit(suiteArgument, options.errata, notice);
  const tasks = selectCases(loaded.tasks, options.cases?.spans ?? [{ start: 0 }]);

  const sandbox: Sandbox = await openSandbox(options.sandbox, notice);
  const interrupt = interruptOnCtrlC("interrupted: finishing the programs already running, then printing what was audited", notice);
  const progress = progressDisplay();
  const began = performance.now();
  try {
    notice(`auditing ${tasks.length} case${tasks.length === 1 ? "" : "s"} of ${loaded.name} with ${cheats.length} cheat${cheats.length === 1 ? "" : "s"} and each case's reference in the ${sandbox.name} sandbox`);
    const audit = await auditSuite({
      tasks,
      sandbox,
      cheats,
      timeoutSeconds: options.timeout,
      timeLimits: loaded.scaledLimits ? onDemandTimeLimits(sandbox, { defaultTimeoutSeconds: options.timeout, workers: options.workers, signal: interrupt.signal, onNotice: notice }) : undefined,
      workers: options.workers,
      signal: interrupt.signal,
      onProgress: progress.update,
      // Agentic cases get a koderz-workspace container, as their solver gives them; Docker only.
      openWorkspace: sandbox.name === "docker" ? async (files, signal) => (await import("../../sandbox/case-workspace.js")).openCaseWorkspace(files, signal) : undefined,
    });
    progress.stop();
    const report = auditReport(audit, {
      suite: loaded.name,
      source: loaded.source,
      errata: options.errata,
      sandbox: sandbox.name,
      selection: options.cases?.text ?? "all",
      cheats,
      wallSeconds: (performance.now() - began) / 1000,
    });
    process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : auditText(report));
    notice(`audited ${report.casesAudited} cases in ${report.wallSeconds.toFixed(1)} s`);
    if (interrupt.signal.aborted) {
      notice("interrupted: programs not run count as failed, so the audit above may miss cheatable cases");
      process.exitCode = 130;
    }
  } finally {
    progress.stop();
    interrupt.dispose();
    await sandbox.close();
  }
}

/** The cases the spans name, in suite order, each once. */
function selectCases(tasks: readonly Task[], spans: readonly CaseSpan[]): Task[] {
  const chosen = new Set(spans.flatMap((span) => selectRange(tasks, span.start, span.end ?? tasks.length)));
  return tasks.filter((task) => chosen.has(task));
}

function chosenCheats(names: readonly string[] | undefined): readonly Cheat[] {
  if (!names) return CHEATS;
  const { cheats, unknown } = cheatsNamed(names);
  if (unknown.length > 0) {
    throw new KoderzError("usage", `--cheats: no cheat named ${unknown.join(", ")}`, `the cheats are: ${CHEATS.map((cheat) => cheat.name).join(", ")}`);
  }
  return cheats;
}

/** A suite by name or file, or a HumanEval-format dataset file; errata off reads datasets as published. */
async function loadForAudit(argument: string, errata: boolean, notice: (message: string) => void): Promise<LoadedForAudit> {
  if (/\.jsonl(\.gz)?$/i.test(argument)) {
    const { suite, file } = await resolveDataset({ suite: "humaneval", dataset: argument, onNotice: notice });
    return { name: path.basename(argument), source: file, tasks: await loadSuiteFile(file, suite, { errata }), scaledLimits: suite === "humaneval+" };
  }
  const suiteFile = resolveSuiteFile(argument);
  const definition = readSuiteFile(suiteFile);
  if (definition.dataset) {
    const { suite, file } = await resolveDataset({ suite: definition.dataset, onNotice: notice });
    return { name: definition.name, source: file, tasks: await loadSuiteFile(file, suite, { errata }), scaledLimits: suite === "humaneval+" };
  }
  const loaded = await loadSuiteDefinition(suiteFile);
  return { name: loaded.name, source: loaded.file, tasks: loaded.tasks, scaledLimits: false };
}

/** The audit as text: the findings first, then the rates, then what could not be audited. */
export function auditText(report: AuditReport): string {
  const lines: string[] = [];
  const share = (tally: { count: number; share: number | null }) => `${tally.count} of ${report.casesAudited} cases${tally.share === null ? "" : ` (${tally.share.toFixed(3)})`}`;
  const targetOf = new Map(report.cheats.map((cheat) => [cheat.name, cheat.target]));
  const found = report.cases.filter((c) => c.passedBy.length > 0);
  const width = Math.max(8, ...report.cases.map((c) => c.caseId.length));
  lines.push(
    `audit of ${report.suite} (${report.source ? path.basename(report.source) : "?"}${report.errata ? "" : ", without dataset errata"}), ${report.selection === "all" ? "every case" : `cases ${report.selection}`}, ${report.cheats.length} cheats, ${report.sandbox} sandbox`,
    "",
  );
  if (found.length === 0) lines.push("no cheat passes any case");
  else {
    lines.push("cases a cheat passes:");
    for (const c of found) {
      const test = c.passedBy.filter((name) => targetOf.get(name) === "test");
      const judge = c.passedBy.filter((name) => targetOf.get(name) === "judge");
      const parts = [...(test.length ? [`wrong answer: ${test.join(", ")}`] : []), ...(judge.length ? [`around the test: ${judge.join(", ")}`] : [])];
      lines.push(`  ${c.caseId.padEnd(width)}  ${parts.join("; ")}`);
    }
  }
  lines.push(
    "",
    `cheatable: ${share(report.cheatable)}`,
    `  by a wrong answer (the test is weak):         ${share(report.cheatableByTarget.test)}`,
    `  by going around the test (the judge lets it): ${share(report.cheatableByTarget.judge)}`,
    "",
    "cases passed, per cheat (of the cases it applies to):",
    ...report.perCheat.map((row) => `  ${row.cheat.padEnd(24)} ${row.casesTried === 0 ? "   - (applies to no case here)" : `${String(row.casesPassed).padStart(4)} of ${row.casesTried}`}`),
  );
  const fooled = report.cases.filter((c) => c.passedIfJudgeFooled.length > 0);
  if (fooled.length > 0) {
    lines.push("", "rubric cases a cheat passes if the judge model gives it full marks:");
    for (const c of fooled) lines.push(`  ${c.caseId.padEnd(width)}  ${c.passedIfJudgeFooled.join(", ")}`);
  }
  const met = report.cases.filter((c) => c.criteriaMetByCheats.length > 0);
  if (met.length > 0) {
    lines.push("", "rubric criteria a cheat meets:");
    for (const c of met) for (const { criterion, cheats } of c.criteriaMetByCheats) lines.push(`  ${c.caseId.padEnd(width)}  ${criterion}: ${cheats.join(", ")}`);
  }
  const judged = report.cases.filter((c) => c.judgeOnlyCriteria.length > 0);
  if (judged.length > 0) {
    lines.push("", "criteria only a judge model decides (no program checks them):");
    for (const c of judged) lines.push(`  ${c.caseId.padEnd(width)}  ${c.judgeOnlyCriteria.join("; ")}`);
  }
  lines.push("", report.referenceFailures.length === 0 ? "every case's reference passes" : "cases whose own reference does not pass (broken, not strict):");
  for (const failure of report.referenceFailures) lines.push(`  ${failure.caseId.padEnd(width)}  ${failure.verdict}`);
  const noReference = report.cases.filter((c) => c.reference === null).length;
  if (noReference > 0) lines.push(`  (${noReference} case${noReference === 1 ? " has" : "s have"} no reference to check)`);
  if (report.notAudited.length > 0) {
    lines.push("", `not audited: ${report.notAudited.length} case${report.notAudited.length === 1 ? "" : "s"}`);
    for (const skipped of report.notAudited) lines.push(`  ${skipped.caseId.padEnd(width)}  ${skipped.reason}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A progress bar on a terminal; nothing when stderr is a file or a pipe. */
function progressDisplay(): { update: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "auditing [{bar}] {value}/{total} programs, eta {eta_formatted}", hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, done);
      started = true;
      bar.setTotal(total);
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
