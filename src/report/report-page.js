// @ts-check
/**
 * The browser side of the HTML report (html-report.ts inlines it after chart.js): reads the
 * embedded JSON and hands each series to chart.js. It computes nothing (report-data.ts did) and
 * writes no data into the DOM except through chart.js's canvas, so no text from the store is
 * ever parsed as HTML. Plain ES2017: it runs in the page, not in Node; `npm run lint`
 * type-checks it (tsconfig.pages.json).
 */
(function () {
  "use strict";
  /** chart.js, inlined before this script as a UMD bundle that sets window.Chart. */
  var Chart = /** @type {typeof import("chart.js").Chart} */ (/** @type {any} */ (window).Chart);
  var data = JSON.parse(/** @type {string} */ (/** @type {HTMLElement} */ (document.getElementById("report-data")).textContent));
  var palette = data.palette;
  var modeColors = { fast: "#2bb3a3", standard: "#4c78d0", deep: "#8e5cc8" };

  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#475467";
  Chart.defaults.borderColor = "#eaecf0";
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;

  function color(i) { return palette[i % palette.length]; }
  function draw(id, config) {
    var canvas = /** @type {HTMLCanvasElement | null} */ (document.getElementById(id));
    if (canvas) new Chart(canvas, config);
  }
  function axis(title, extra) {
    var scale = { title: { display: true, text: title }, grid: { color: "#f0f2f5" } };
    for (var k in extra || {}) scale[k] = extra[k];
    return scale;
  }
  function percentAxis(title) {
    return axis(title, { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } });
  }
  // Significant digits, not fixed decimals: cost ticks of a cheap run differ in the 5th decimal.
  function dollars(v) { return "$" + Number(Number(v).toPrecision(3)); }

  var s = data.successByModeAndModel;
  draw("chart-success-by-mode-model", {
    type: "bar",
    data: {
      labels: s.modes,
      datasets: s.models.map(function (model, m) {
        return { label: model, data: s.rates[m], backgroundColor: color(m), borderRadius: 3, maxBarThickness: 56 };
      }),
    },
    options: {
      scales: { x: axis("mode"), y: percentAxis("problems solved") },
      plugins: { tooltip: { callbacks: { label: function (ctx) {
        var m = ctx.datasetIndex, a = ctx.dataIndex;
        return s.models[m] + ": " + Number(ctx.raw).toFixed(1) + "% (" + s.successes[m][a] + "/" + s.experiments[m][a] + ")";
      } } } },
    },
  });

  draw("chart-cost-vs-success", {
    type: "scatter",
    data: {
      // A run whose costs were not logged has no place on a cost axis: its legend says so, and it draws no point.
      datasets: data.columns.map(function (c, i) {
        var known = c.meanCostUsd !== null;
        return { label: known ? c.label : c.label + " (cost n/a)", data: known ? [{ x: c.meanCostUsd, y: c.successRate }] : [], backgroundColor: color(i), borderColor: color(i), pointRadius: 7, pointHoverRadius: 9, clip: false };
      }),
    },
    options: {
      scales: {
        x: axis("mean cost per problem (USD)", { beginAtZero: true, ticks: { callback: dollars } }),
        y: percentAxis("problems solved"),
      },
      plugins: { tooltip: { callbacks: { label: function (ctx) {
        return ctx.dataset.label + ": " + Number(ctx.raw.y).toFixed(1) + "% at " + dollars(ctx.raw.x) + " per problem";
      } } } },
    },
  });

  function histogram(id, h, title) {
    draw(id, {
      type: "bar",
      data: {
        labels: h.labels,
        datasets: data.columns.map(function (c, i) {
          return { label: c.label, data: h.counts[i], backgroundColor: color(i), categoryPercentage: 0.9, barPercentage: 1 };
        }),
      },
      options: {
        scales: {
          x: axis(h.width > 1 ? title + ", bins of " + h.width.toLocaleString("en-US") : title, { grid: { display: false } }),
          y: axis("problems", { beginAtZero: true, ticks: { precision: 0 } }),
        },
        plugins: { tooltip: { callbacks: { title: function (items) {
          var lower = h.lowerEdges[items[0].dataIndex];
          return h.width > 1 ? lower.toLocaleString("en-US") + " to " + (lower + h.width - 1).toLocaleString("en-US") : String(lower);
        } } } },
      },
    });
  }
  histogram("chart-tokens", data.tokens, "tokens per problem (input + output)");
  histogram("chart-iterations", data.iterations, "iterations per problem");

  function points(series) { return series.x.map(function (x, i) { return { x: x, y: series.y[i] }; }); }
  function curve(label, series, i) {
    return { label: label, data: points(series), borderColor: color(i), backgroundColor: color(i), borderWidth: 2, pointRadius: 0, tension: 0 };
  }
  var training = data.training;
  draw("chart-return", {
    type: "line",
    data: { datasets: training.map(function (t, i) { return curve(t.name + " (mean of " + t.returnWindow + ")", t.meanReturn, i); }) },
    options: { scales: { x: axis("episode", { type: "linear" }), y: axis("return") } },
  });
  draw("chart-regret", {
    type: "line",
    data: { datasets: training.filter(function (t) { return t.cumulativeRegret; }).map(function (t, i) { return curve(t.name, t.cumulativeRegret, i); }) },
    options: { scales: { x: axis("episode", { type: "linear" }), y: axis("cumulative regret", { beginAtZero: true }) } },
  });
  // The quality-cost curve of a replay study (RouteLLM-style): the learned policy at each cost
  // weight as a line, the table's controllers (arms, cascade, learned, oracle) as points.
  training.forEach(function (t, f) {
    var held = t.heldOut;
    if (!held || !held.curve || !held.curve.length) return;
    var usd = held.costUnit === "usd";
    var sweep = held.curve.slice().sort(function (a, b) { return a.costPerTask - b.costPerTask; });
    var datasets = [{
      label: "learned, cost weight swept",
      data: sweep.map(function (p) { return { x: p.costPerTask, y: 100 * p.success, weight: p.costWeight }; }),
      showLine: true, borderColor: "#1d2433", backgroundColor: "#1d2433", borderWidth: 2, pointRadius: 3,
    }].concat(held.rows.map(function (row, i) {
      return { label: row.name, data: [{ x: row.costPerTask.mean, y: 100 * row.success.mean }], backgroundColor: color(i), borderColor: color(i), pointRadius: 7, pointHoverRadius: 9, clip: false };
    }));
    draw("chart-quality-cost-" + f, {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        scales: {
          x: axis(usd ? "cost per task (USD)" : "tokens per task", { beginAtZero: true, ticks: usd ? { callback: dollars } : {} }),
          y: percentAxis("held-out tasks solved"),
        },
        plugins: { tooltip: { callbacks: { label: function (ctx) {
          var cost = usd ? dollars(ctx.raw.x) : Math.round(ctx.raw.x) + " tokens";
          var weight = ctx.raw.weight === undefined ? "" : " (cost weight " + ctx.raw.weight + ")";
          return ctx.dataset.label + weight + ": " + Number(ctx.raw.y).toFixed(1) + "% at " + cost + " per task";
        } } } },
      },
    });
  });

  training.forEach(function (t, f) {
    draw("chart-mode-mix-" + f, {
      type: "line",
      data: {
        datasets: t.modeMix.modes.map(function (mode, m) {
          var c = modeColors[mode] || color(m);
          return {
            label: mode,
            data: t.modeMix.x.map(function (x, b) { return { x: x, y: t.modeMix.shares[m][b] }; }),
            borderColor: c, backgroundColor: c + "cc", fill: m === 0 ? "origin" : "-1", pointRadius: 0, borderWidth: 1,
          };
        }),
      },
      options: { scales: { x: axis("episode", { type: "linear" }), y: axis("share of episodes", { stacked: true, min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } }) } },
    });
  });

  // The matrix filter: hide problems every run agrees on.
  var disagree = /** @type {HTMLInputElement | null} */ (document.getElementById("only-disagreements"));
  if (disagree) disagree.addEventListener("change", function () {
    var checked = /** @type {HTMLInputElement} */ (disagree).checked;
    /** @type {HTMLElement} */ (document.getElementById("problem-matrix")).classList.toggle("only-disagreements", checked);
  });
})();
