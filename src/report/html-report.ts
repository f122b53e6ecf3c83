import { createHash } from "node:crypto";
import { readPackageFile } from "../package-file.js";
import { escapeHtml, jsonForScript, scriptSafe } from "./html-text.js";
import { formatCount, formatDollars, formatPercent } from "./number-format.js";
import type { ReportColumn, ReportData } from "./report-data.js";
import type { HeldOutTable } from "./train-metrics.js";

/**
 * The HTML report: one self-contained file. Tables are rendered here, as escaped HTML, so they
 * read without JavaScript; charts are drawn in the page by the inlined chart.js from the
 * embedded JSON. A Content-Security-Policy allows only these two scripts (by hash) and no
 * fetches at all, so the file opens with no network and injected markup could not run.
 */

/** Series colours, in the order of the report's columns; the runs table shows them as swatches. */
export const REPORT_PALETTE = ["#4c78d0", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"];

/** What the page script reads: everything but the tables, which are already HTML. */
export type ReportChartData = Omit<ReportData, "matrix" | "emptyRuns"> & { palette: string[] };

export function renderHtmlReport(data: ReportData, chartJs: string): string {
  const { matrix: _matrix, emptyRuns: _emptyRuns, ...charted } = data;
  const chartData: ReportChartData = { ...charted, palette: REPORT_PALETTE };
  const libraryScript = scriptSafe(chartJs);
  const pageScript = scriptSafe(readPackageFile(import.meta.url, "./report-page.js"));
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHash(libraryScript)} ${scriptHash(pageScript)}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
  ].join("; ");
  const runCount = new Set([...data.columns.map((c) => c.runId), ...data.emptyRuns.map((r) => r.runId)]).size;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>koderz report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header>
  <h1>koderz report</h1>
  <p class="subtitle">${runCount} run${runCount === 1 ? "" : "s"} · ${data.matrix.problems.length} problems · generated ${escapeHtml(data.generatedAt.replace("T", " ").slice(0, 16))} UTC</p>
</header>
${runsSection(data)}
${qualitySection(data)}
${data.columns.length ? chartsSection() : ""}
${trainingSection(data)}
${data.columns.length ? matrixSection(data) : ""}
<footer>Made by <code>koderz report</code>. Charts by Chart.js (MIT), inlined so this file needs no network.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(chartData)}</script>
<script>${libraryScript}</script>
<script>${pageScript}</script>
</body>
</html>
`;
}

function runsSection(data: ReportData): string {
  const rows = data.columns.map((column, i) => runRow(column, i));
  const empty = data.emptyRuns.map(
    (run) =>
      `<tr data-run="${escapeHtml(run.runId)}"><td class="run"><span class="swatch blank"></span><code>${escapeHtml(run.runId)}</code></td>` +
      `<td>${escapeHtml(run.mode)}</td><td>${escapeHtml(run.stage ?? "")}</td><td></td><td colspan="5" class="muted">no experiments yet (${escapeHtml(run.status)})</td></tr>`,
  );
  return `<section class="card">
  <h2>Runs</h2>
  <p class="note">One row per arm of a run; a comparative run has a zero-shot and an iterative arm. Colours match the charts.</p>
  <div class="scroll"><table id="runs-table">
    <thead><tr><th>run</th><th>mode</th><th>stage</th><th>models</th><th class="num">solved</th><th class="num">success</th><th class="num">tokens in / out</th><th class="num">cost</th><th class="num">per problem</th></tr></thead>
    <tbody>
${[...rows, ...empty].join("\n")}
    </tbody>
  </table></div>
</section>`;
}

function runRow(column: ReportColumn, index: number): string {
  const mode = column.arm === column.mode ? escapeHtml(column.mode) : `${escapeHtml(column.mode)}<div class="arm">${escapeHtml(column.arm)} arm</div>`;
  const models = column.models.length ? column.models.map((m) => `<span class="model">${escapeHtml(m)}</span>`).join(" ") : `<span class="muted">unknown</span>`;
  const num = (field: string, value: number | null, text: string) =>
    `<td class="num" data-field="${field}" data-value="${value === null ? "" : String(value)}">${text}</td>`;
  return (
    `<tr data-column="${escapeHtml(column.key)}" data-run="${escapeHtml(column.runId)}" data-arm="${escapeHtml(column.arm)}">` +
    `<td class="run"><span class="swatch" style="background:${REPORT_PALETTE[index % REPORT_PALETTE.length]}"></span><code>${escapeHtml(column.label)}</code></td>` +
    `<td class="mode">${mode}</td><td>${escapeHtml(column.stage ?? "")}</td><td class="models">${models}</td>` +
    `<td class="num" data-field="solved" data-successes="${column.successes}" data-problems="${column.problems}">${formatCount(column.successes)} / ${formatCount(column.problems)}</td>` +
    num("successRate", column.successRate, column.successRate === null ? "–" : `<strong>${formatPercent(column.successRate)}</strong>`) +
    `<td class="num" data-field="tokens" data-input="${column.inputTokens ?? ""}" data-output="${column.outputTokens ?? ""}">${column.inputTokens === null || column.outputTokens === null ? "n/a" : `${formatCount(column.inputTokens)} / ${formatCount(column.outputTokens)}`}</td>` +
    num("costUsd", column.costUsd, column.costUsd === null ? "n/a" : formatDollars(column.costUsd)) +
    num("meanCostUsd", column.meanCostUsd, column.meanCostUsd === null ? "n/a" : formatDollars(column.meanCostUsd)) +
    `</tr>`
  );
}

/** Code quality next to correctness, and what heavy mode's drafts bought; left out when no arm has either. */
function qualitySection(data: ReportData): string {
  const measured = data.columns.map((column, index) => ({ column, index })).filter(({ column }) => column.codeQuality || column.heavyMode);
  if (measured.length === 0) return "";
  const cell = (field: string, value: number | null | undefined, text: (v: number) => string) =>
    `<td class="num" data-field="${field}" data-value="${value == null ? "" : String(value)}">${value == null ? "–" : text(value)}</td>`;
  const two = (v: number) => v.toFixed(2);
  const fractionPercent = (v: number) => formatPercent(v * 100);
  const rows = measured.map(({ column, index }) => {
    const q = column.codeQuality;
    const h = column.heavyMode;
    return (
      `<tr data-column="${escapeHtml(column.key)}"><td class="run"><span class="swatch" style="background:${REPORT_PALETTE[index % REPORT_PALETTE.length]}"></span><code>${escapeHtml(column.label)}</code></td>` +
      cell("successRate", column.successRate, formatPercent) +
      cell("cyclomatic", q?.meanCyclomaticComplexity, two) +
      cell("maintainability", q?.meanMaintainabilityIndex, (v) => v.toFixed(1)) +
      cell("drafts", h?.meanDrafts, (v) => v.toFixed(1)) +
      cell("codeSimilarity", h?.meanCodeSimilarity, two) +
      cell("codeConvergence", h?.codeConvergenceRate, fractionPercent) +
      cell("behaviourAgreement", h?.meanBehaviourAgreement, two) +
      cell("behaviourConvergence", h?.behaviourConvergenceRate, fractionPercent) +
      cell("bestOfK", h?.bestOfKBeatsFirstRate, fractionPercent) +
      cell("hybridGain", h?.meanHybridGain, (v) => `${v >= 0 ? "+" : ""}${two(v)}`) +
      cell("verdictBestOfK", h?.verdictBestOfKBeatsFirstRate, fractionPercent) +
      cell("verdictHybridGain", h?.verdictHybridGain, (v) => `${v >= 0 ? "+" : ""}${two(v)}`) +
      `</tr>`
    );
  });
  return `<section class="card">
  <h2>Code quality and heavy mode</h2>
  <p class="note">Means over each arm's final code, measured in the sandbox: McCabe's cyclomatic complexity (lower is simpler) and the maintainability index (0-100, higher is easier to maintain). For runs with K drafts (deep): how alike the drafts' code is (1: the same up to names and layout) and how often it is identical; how often they return the same on generated inputs; how often the best draft beats the first, and the hybrid's gain over the best draft, first by the visible examples the pipeline chose with, then by the final verdict (HumanEval: hidden tests) each draft and the hybrid got after the run.</p>
  <div class="scroll"><table id="quality-table">
    <thead><tr><th>run</th><th class="num">success</th><th class="num">complexity</th><th class="num">maintainability</th><th class="num">drafts</th><th class="num">code similarity</th><th class="num">same code</th><th class="num">behaviour agreement</th><th class="num">same outputs</th><th class="num">best of K beats first</th><th class="num">hybrid gain</th><th class="num">best of K beats first (verdict)</th><th class="num">hybrid gain (verdict)</th></tr></thead>
    <tbody>
${rows.join("\n")}
    </tbody>
  </table></div>
</section>`;
}

function chartsSection(): string {
  return `<div class="grid">
  ${chartCard("chart-success-by-mode-model", "Success by mode and model", "Share of problems solved, pooled over the runs in this report.")}
  ${chartCard("chart-cost-vs-success", "Cost against success", "Each point is one run arm: up and to the left is better.")}
  ${chartCard("chart-tokens", "Tokens per problem", "How many tokens (input + output) a problem took, per run arm.")}
  ${chartCard("chart-iterations", "Iterations per problem", "How many attempts a problem took before it passed or the budget ran out.")}
</div>`;
}

function trainingSection(data: ReportData): string {
  if (data.training.length === 0) {
    return `<section class="card muted-card"><h2>Meta-controller training</h2><p class="note">No training metrics in this report: add <code>--metrics FILE</code> with the metrics log of <code>koderz train-meta</code>.</p></section>`;
  }
  const sources = data.training
    .map((t) => {
      const env = t.env === "synthetic" ? ` <span class="tag">synthetic environment: simulated episodes, not model results</span>` : t.env ? ` <span class="tag">${escapeHtml(t.env)}</span>` : "";
      return `<li><code>${escapeHtml(t.name)}</code>: ${formatCount(t.episodes)} episodes, ${formatPercent(t.successRate)} solved${env}</li>`;
    })
    .join("");
  const hasRegret = data.training.some((t) => t.cumulativeRegret);
  const mixes = data.training.map((t, i) => chartCard(`chart-mode-mix-${i}`, `Mode mix · ${t.name}`, "Share of episodes run in each mode, over training.")).join("\n");
  return `<section class="card">
  <h2>Meta-controller training</h2>
  <ul class="sources">${sources}</ul>
</section>
${data.training.map((t, i) => (t.heldOut ? heldOutCard(t.name, t.heldOut, i) : "")).join("\n")}
<div class="grid three">
  ${chartCard("chart-return", "Return", "Episode return, as a trailing moving average.")}
  ${hasRegret ? chartCard("chart-regret", "Cumulative regret", "Return lost against the oracle's choice, summed over episodes: flattening means the policy learned.") : ""}
  ${mixes}
</div>`;
}

/** A replay study's pooled held-out table, its plain verdicts and the quality-cost curve, drawn (report-page.js) and as a table of points. */
function heldOutCard(name: string, table: HeldOutTable, index: number): string {
  const usd = table.costUnit === "usd";
  const cost = (value: number): string => (usd ? formatDollars(value) : `${formatCount(Math.round(value))} tokens`);
  const share = (value: number | null): string => (value === null ? "–" : formatPercent(100 * value));
  const rows = table.rows
    .map(
      (row) => `<tr><td>${escapeHtml(row.name)}</td><td class="num">${formatPercent(100 * row.success.mean)} <span class="muted">[${formatPercent(100 * row.success.low)}, ${formatPercent(100 * row.success.high)}]</span></td>` +
        `<td class="num">${cost(row.costPerTask.mean)} <span class="muted">[${cost(row.costPerTask.low)}, ${cost(row.costPerTask.high)}]</span></td>` +
        `<td class="num">${row.costPerSolved === null ? "–" : cost(row.costPerSolved)}</td><td class="num">${share(row.successOfDearest)}</td><td class="num">${share(row.costOfDearest)}</td>` +
        `<td class="num">${row.cumulativeRegret === null ? "–" : row.cumulativeRegret.toFixed(2)}</td></tr>`,
    )
    .join("");
  const curve = table.curve?.length
    ? `<h2>Quality-cost curve</h2><p class="note">The learned policy trained at each cost weight (reward lost per ${usd ? "dollar" : "1000 tokens"}), held-out and pooled, as a line; each controller of the table above is a point. Up and to the left is better.</p>
  <div class="chart"><canvas id="chart-quality-cost-${index}" role="img" aria-label="Quality-cost curve · ${escapeHtml(name)}"></canvas></div>
  <table><thead><tr><th>cost weight</th><th class="num">success</th><th class="num">cost per task</th></tr></thead><tbody>${table.curve
    .map((p) => `<tr><td>${p.costWeight}</td><td class="num">${formatPercent(100 * p.success)}</td><td class="num">${cost(p.costPerTask)}</td></tr>`)
    .join("")}</tbody></table>`
    : "";
  return `<section class="card">
  <h2>Held-out table · ${escapeHtml(name)}</h2>
  <p class="note">${table.episodes} held-out episodes per controller, pooled over seeds ${table.seeds.join(", ")}, each its own split by task; 95 % bootstrap intervals in brackets; ${usd ? "costs in US dollars as logged" : "costs in tokens: no price was known"}${table.dearest ? `; % columns relative to ${escapeHtml(table.dearest)}, the dearest fixed arm` : ""}.</p>
  <div class="scroll"><table><thead><tr><th>controller</th><th class="num">success</th><th class="num">cost per task</th><th class="num">cost per solved</th><th class="num">% dearest success</th><th class="num">% dearest cost</th><th class="num">cum. regret</th></tr></thead><tbody>${rows}</tbody></table></div>
  ${table.verdicts.map((line) => `<p class="note">${escapeHtml(line)}</p>`).join("")}
  ${curve}
</section>`;
}

/** A titled chart; title and note are plain text. */
function chartCard(id: string, title: string, note: string): string {
  return `<section class="card"><h2>${title}</h2><p class="note">${note}</p><div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div></section>`;
}

function matrixSection(data: ReportData): string {
  const { columns, matrix } = data;
  const head = columns
    .map((c, i) => `<th class="col" title="${escapeHtml(c.label)}"><span class="swatch" style="background:${REPORT_PALETTE[i % REPORT_PALETTE.length]}"></span>${escapeHtml(c.label)}</th>`)
    .join("");
  const body = matrix.problems
    .map((problemId, p) => {
      const cells = matrix.cells[p]!;
      const outcomes = new Set(cells.filter((c) => c.outcome !== "none").map((c) => c.outcome));
      const tds = cells
        .map((cell, i) => {
          const title =
            cell.outcome === "none"
              ? `${problemId} · ${columns[i]!.label}: not attempted`
              : `${problemId} · ${columns[i]!.label}: ${cell.outcome === "pass" ? "passed" : (cell.verdict ?? "failed")} · ${cell.iterations} iteration${cell.iterations === 1 ? "" : "s"} · ${formatDollars(cell.costUsd ?? 0)}`;
          const mark = cell.outcome === "pass" ? "✓" : cell.outcome === "fail" ? "✗" : "·";
          return `<td class="cell ${cell.outcome}" data-column="${escapeHtml(columns[i]!.key)}" data-outcome="${cell.outcome}" title="${escapeHtml(title)}">${mark}</td>`;
        })
        .join("");
      return `<tr data-problem="${escapeHtml(problemId)}" data-agree="${outcomes.size <= 1}"><th class="problem">${escapeHtml(problemId)}</th>${tds}</tr>`;
    })
    .join("\n");
  const solved = columns.map((c) => `<td class="num">${c.successes}/${c.problems}</td>`).join("");
  const filter = columns.length > 1 ? `<label class="filter"><input type="checkbox" id="only-disagreements"> only problems where the runs differ</label>` : "";
  return `<section class="card">
  <div class="card-head"><div><h2>Problems × runs</h2><p class="note">✓ passed the hidden tests, ✗ failed, · not attempted. Hover a cell for its verdict.</p></div>${filter}</div>
  <div class="matrix-scroll"><table id="problem-matrix" class="matrix">
    <thead><tr><th class="problem">problem</th>${head}</tr></thead>
    <tbody>
${body}
    </tbody>
    <tfoot><tr><th class="problem">solved</th>${solved}</tr></tfoot>
  </table></div>
</section>`;
}

function scriptHash(source: string): string {
  return `'sha256-${createHash("sha256").update(source, "utf8").digest("base64")}'`;
}

const REPORT_CSS = `
:root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --bg: #f5f6f8; --pass: #067647; --pass-bg: #dcfae6; --fail: #b42318; --fail-bg: #fee4e2; --none-bg: #f2f4f7; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; -webkit-font-smoothing: antialiased; }
main { max-width: 1280px; margin: 0 auto; padding: 36px 28px 56px; }
h1 { font-size: 26px; font-weight: 650; letter-spacing: -0.01em; margin: 0 0 4px; }
h2 { font-size: 15px; font-weight: 600; margin: 0 0 2px; }
.subtitle { color: var(--muted); margin: 0 0 24px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 0 0 20px; }
.muted-card { background: transparent; }
.card-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
.note { color: var(--muted); font-size: 13px; margin: 0 0 14px; }
.muted { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 0 20px; }
.grid.three { grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
.chart { position: relative; height: 290px; }
.scroll { overflow-x: auto; }
#runs-table { font-size: 13.5px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 8px 9px; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); font-weight: 600; white-space: nowrap; }
tbody tr:last-child td, tbody tr:last-child th { border-bottom: none; }
.num { text-align: right; white-space: nowrap; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
td.run, td.mode { white-space: nowrap; }
.arm { color: var(--muted); font-size: 12.5px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 3px; margin-right: 8px; vertical-align: -1px; }
.swatch.blank { border: 1px dashed var(--muted); }
.model { display: inline-block; background: #f2f4f7; border-radius: 4px; padding: 1px 6px; margin: 1px 0; font-size: 12px; white-space: nowrap; }
.tag { display: inline-block; background: #fef0c7; color: #93370d; border-radius: 4px; padding: 0 6px; font-size: 12px; margin-left: 6px; }
.sources { margin: 8px 0 0; padding-left: 18px; }
.filter { color: var(--muted); font-size: 13px; white-space: nowrap; cursor: pointer; }
.matrix-scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
/* Equal columns: no run looks more important because its id is longer. */
.matrix { table-layout: fixed; width: 100%; }
.matrix th.problem { width: 150px; }
.matrix th, .matrix td { padding: 3px 8px; border-bottom: 1px solid #f0f2f5; }
.matrix thead th { position: sticky; top: 0; background: #fff; z-index: 1; border-bottom: 1px solid var(--line); text-transform: none; letter-spacing: 0; font-size: 12px; color: var(--ink); }
.matrix th.col { text-align: center; max-width: 220px; white-space: normal; overflow-wrap: anywhere; font-weight: 500; }
.matrix tfoot th, .matrix tfoot td { position: sticky; bottom: 0; background: #fafbfc; border-top: 1px solid var(--line); font-weight: 600; text-align: center; }
.matrix th.problem { text-align: left; font-weight: 500; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; }
.matrix td.cell { text-align: center; font-weight: 700; border-left: 2px solid #fff; }
.cell.pass { background: var(--pass-bg); color: var(--pass); }
.cell.fail { background: var(--fail-bg); color: var(--fail); }
.cell.none { background: var(--none-bg); color: #98a2b3; }
.only-disagreements tbody tr[data-agree="true"] { display: none; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 28px; text-align: center; }
`;
