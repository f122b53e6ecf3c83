/**
 * The viewer's one page: HTML shell, stylesheet and script, kept as strings so they ship inside
 * the compiled dist/ with no asset copying. The script builds every element with
 * createElement/textContent: run ids, prompts, responses and test output are untrusted text and
 * are never parsed as HTML. Plain ES2017: it runs in the browser, not in Node.
 */

export const VIEWER_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>koderz view</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
</head>
<body>
<header class="bar">
  <a class="brand" href="#/">koderz <span>view</span></a>
  <nav id="crumbs" aria-label="breadcrumbs"></nav>
  <button id="refresh" type="button" title="Load again from the store">Refresh</button>
</header>
<main id="app" aria-live="polite"></main>
<script src="/app.js"></script>
</body>
</html>
`;

export const VIEWER_CSS = `
:root { --ink: #1d2433; --muted: #667085; --line: #e4e7ec; --bg: #f5f6f8; --accent: #3559c7; --pass: #067647; --pass-bg: #dcfae6; --fail: #b42318; --fail-bg: #fee4e2; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; -webkit-font-smoothing: antialiased; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.bar { position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 18px; padding: 0 28px; height: 52px; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--ink); font-size: 15px; }
.brand span { font-weight: 400; color: var(--muted); }
.brand:hover { text-decoration: none; }
#crumbs { flex: 1; display: flex; gap: 8px; align-items: center; color: var(--muted); min-width: 0; white-space: nowrap; overflow: hidden; }
#crumbs .sep { color: #c0c6d0; }
#crumbs .here { color: var(--ink); overflow: hidden; text-overflow: ellipsis; }
#refresh { font: inherit; font-size: 13px; color: var(--ink); background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px; cursor: pointer; }
#refresh:hover { background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 28px 28px 64px; }
h1 { font-size: 22px; font-weight: 650; letter-spacing: -0.01em; margin: 0; overflow-wrap: anywhere; }
h1.mono { font-size: 20px; font-weight: 600; letter-spacing: 0; }
h2 { font-size: 15px; font-weight: 600; margin: 28px 0 10px; }
.head { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; }
.table-card { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 9px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
thead th { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; white-space: nowrap; background: #fafbfc; }
thead th:first-child { border-top-left-radius: 10px; }
thead th:last-child { border-top-right-radius: 10px; }
tbody tr:last-child td { border-bottom: none; }
tbody tr.link { cursor: pointer; }
tbody tr.link:hover td { background: #f7f9fe; }
.num { text-align: right; white-space: nowrap; }
.mono, code { font-family: var(--mono); font-size: 12.5px; }
.nowrap { white-space: nowrap; }
.muted { color: var(--muted); }
.meta { color: var(--muted); font-size: 12px; margin-top: 1px; white-space: nowrap; }
.verdict-cell { max-width: 340px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--muted); }
.badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.pass, .badge.finished { background: var(--pass-bg); color: var(--pass); }
.badge.fail, .badge.failed { background: var(--fail-bg); color: var(--fail); }
.badge.running { background: #e0eaff; color: #2e47a8; }
.badge.interrupted { background: #fef0c7; color: #93370d; }
.pill { display: inline-block; background: #f2f4f7; border-radius: 4px; padding: 0 6px; margin: 1px 4px 1px 0; font-size: 12px; white-space: nowrap; }
.rate { display: flex; align-items: center; gap: 8px; white-space: nowrap; }
.rate + .rate { margin-top: 2px; }
.rate .arm { color: var(--muted); min-width: 64px; font-size: 12.5px; }
.meter { width: 72px; height: 6px; border-radius: 3px; background: #eaecf0; overflow: hidden; }
.meter > div { height: 100%; background: #32a467; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px 24px; margin: 0 0 8px; }
.facts dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
.facts dd { margin: 2px 0 0; overflow-wrap: anywhere; }
.facts .wide { grid-column: 1 / -1; }
.arms { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 14px; margin: 20px 0 4px; }
.arm-card { padding: 14px 16px; }
.arm-card .name { color: var(--muted); font-size: 12.5px; font-weight: 600; }
.arm-card .big { font-size: 26px; font-weight: 650; letter-spacing: -0.02em; }
.arm-card .line { color: var(--muted); font-size: 12.5px; }
.toolbar { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin: 28px 0 10px; }
.toolbar h2 { margin: 0; }
.segments { display: inline-flex; border: 1px solid var(--line); border-radius: 7px; overflow: hidden; background: #fff; }
.segments button { font: inherit; font-size: 13px; border: 0; background: transparent; padding: 4px 12px; cursor: pointer; color: var(--muted); }
.segments button + button { border-left: 1px solid var(--line); }
.segments button[aria-pressed="true"] { background: #eef2fc; color: var(--accent); font-weight: 600; }
.stats { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 6px 0 18px; }
.stat .k { font-size: 11px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
.stat .v { font-size: 17px; font-weight: 600; font-variant-numeric: tabular-nums; }
pre { margin: 0; padding: 12px 14px; background: #f8f9fb; border: 1px solid #eceef2; border-radius: 8px; font: 12.5px/1.55 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; max-height: 460px; overflow: auto; }
pre.verdict.fail { background: #fff8f7; border-color: #fcd9d5; }
pre.verdict.pass { background: #f4fcf7; border-color: #c9f0d8; }
.steps { list-style: none; margin: 0; padding: 0; display: grid; gap: 14px; }
.step { padding: 0; overflow: hidden; }
.step > header { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; padding: 10px 16px; border-bottom: 1px solid var(--line); background: #fafbfc; }
.step-no { display: inline-grid; place-items: center; width: 24px; height: 24px; border-radius: 50%; background: var(--ink); color: #fff; font-size: 12px; font-weight: 600; }
.agent { font-weight: 600; }
.metrics { margin-left: auto; display: flex; gap: 16px; flex-wrap: wrap; color: var(--muted); font-size: 12.5px; font-variant-numeric: tabular-nums; }
.metrics b { color: var(--ink); font-weight: 600; }
.step-body { padding: 6px 16px 14px; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; padding: 4px 0; user-select: none; }
summary:hover { color: var(--ink); }
.empty, .error { padding: 28px; text-align: center; color: var(--muted); }
.error { color: var(--fail); }
.error .hint { color: var(--muted); margin-top: 6px; }
`;

export const VIEWER_JS = String.raw`
(function () {
  "use strict";
  var app = document.getElementById("app");
  var crumbs = document.getElementById("crumbs");
  var currentView = 0;

  // ── DOM: every piece of text goes through textContent or a text node ──────────────────
  function h(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === undefined || child === null || child === false) return;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function percent(p) { return p.toFixed(1) + "%"; }
  function count(n) { return n.toLocaleString("en-US"); }
  function dollars(d) { return "$" + d.toFixed(4); }
  function secondsFromMs(ms) { return (ms / 1000).toFixed(2) + " s"; }
  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : "–"; }
  function runHref(runId) { return "#/runs/" + encodeURIComponent(runId); }
  function experimentHref(id) { return "#/experiments/" + encodeURIComponent(id); }

  function getJson(url) {
    return fetch(url, { headers: { accept: "application/json" } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error(body.error ? body.error.message : "HTTP " + response.status);
          error.hint = body.error ? body.error.hint : null;
          throw error;
        }
        return body;
      });
    });
  }

  function setCrumbs(items) {
    var nodes = [h("a", { href: "#/", text: "Runs" })];
    items.forEach(function (item, i) {
      nodes.push(h("span", { class: "sep", text: "/" }));
      nodes.push(i === items.length - 1 ? h("span", { class: "here", text: item.text }) : h("a", { href: item.href, text: item.text }));
    });
    crumbs.replaceChildren.apply(crumbs, nodes);
  }

  function linkRow(href, props, cells) {
    props.class = "link";
    props.onclick = function (event) { if (event.target.tagName !== "A") location.hash = href; };
    return h("tr", props, cells);
  }

  function table(headers, rows) {
    return h("div", { class: "card table-card" }, [h("table", {}, [
      h("thead", {}, [h("tr", {}, headers.map(function (header) { return h("th", { class: header.num ? "num" : null, text: header.text || header }); }))]),
      h("tbody", {}, rows),
    ])]);
  }

  function rate(label, arm) {
    return h("div", { class: "rate", "data-arm": arm.arm }, [
      label ? h("span", { class: "arm", text: label }) : null,
      h("span", { class: "meter" }, [h("div")]),
      h("span", { "data-field": "successRate", text: percent(arm.successRate) }),
    ]);
  }
  // Bars get their width through the CSSOM: no inline style attribute (the CSP forbids them).
  function meter(node, fraction) { node.querySelector(".meter > div").style.width = Math.round(fraction * 100) + "%"; return node; }

  // ── pages ─────────────────────────────────────────────────────────────────────────────
  function showRuns() {
    return getJson("/api/runs").then(function (data) {
      setCrumbs([]);
      document.title = "Runs · koderz view";
      var runs = data.runs.slice().reverse(); // newest first
      var rows = runs.map(function (run) {
        return linkRow(runHref(run.runId), { "data-run": run.runId }, [
          h("td", {}, [
            h("a", { class: "mono", href: runHref(run.runId), text: run.runId }),
            h("div", { class: "meta", text: run.kind + " · started " + when(run.startTime) }),
          ]),
          h("td", { text: run.mode }),
          h("td", { text: run.stage || "" }),
          h("td", {}, [h("span", { class: "badge " + run.status, text: run.status })]),
          h("td", { class: "num", "data-field": "problems", text: count(run.problems) }),
          h("td", {}, run.arms.length ? run.arms.map(function (arm) {
            return meter(rate(run.arms.length > 1 ? arm.arm : "", arm), arm.successRate / 100);
          }) : [h("span", { class: "muted", text: "–" })]),
          h("td", { class: "num", "data-field": "tokens", text: count(run.inputTokens) + " / " + count(run.outputTokens) }),
          h("td", { class: "num", "data-field": "costUsd", text: dollars(run.costUsd) }),
        ]);
      });
      return [
        h("div", { class: "head" }, [h("h1", { text: "Runs" })]),
        h("p", { class: "sub", text: data.runs.length + " run" + (data.runs.length === 1 ? "" : "s") + " in the store, newest first" }),
        runs.length
          ? table(["run", "mode", "stage", "status", { text: "problems", num: true }, "success", { text: "tokens in / out", num: true }, { text: "cost", num: true }], rows)
          : h("div", { class: "card empty", text: "No runs yet: start one with koderz benchmark." }),
      ];
    });
  }

  function showRun(runId) {
    return getJson("/api/runs/" + encodeURIComponent(runId)).then(function (data) {
      var run = data.run;
      setCrumbs([{ text: run.runId }]);
      document.title = run.runId + " · koderz view";
      var pills = function (items) { return items.length ? items.map(function (item) { return h("span", { class: "pill", text: item }); }) : ["–"]; };
      // Tags the store adds itself (kind:, mode:, model:) repeat the facts above them.
      var ownTags = run.tags.filter(function (tag) { return !/^(kind|mode|model):/.test(tag); });
      var facts = [
        ["kind", [run.kind]], ["mode", [run.mode]], ["stage", [run.stage || "–"]], ["started", [when(run.startTime)]], ["ended", [when(run.endTime)]],
        ["models", pills(run.models), "wide"], ["tags", pills(ownTags), "wide"],
      ];
      var arms = run.arms.map(function (arm) {
        return h("div", { class: "card arm-card", "data-arm": arm.arm }, [
          h("div", { class: "name", text: arm.arm }),
          h("div", { class: "big", "data-field": "successRate", text: percent(arm.successRate) }),
          h("div", { class: "line", text: arm.successes + " / " + arm.experiments + " solved · " + (arm.experiments ? (arm.iterations / arm.experiments).toFixed(1) : "0") + " iterations per problem" }),
          h("div", { class: "line", text: count(arm.inputTokens) + " / " + count(arm.outputTokens) + " tokens · " + dollars(arm.costUsd) }),
        ]);
      });
      var rows = data.experiments.map(function (e) {
        return linkRow(experimentHref(e.experimentId), { "data-experiment": e.experimentId, "data-arm": e.arm, "data-problem": e.problemId }, [
          h("td", {}, [h("a", { class: "mono", href: experimentHref(e.experimentId), text: e.problemId })]),
          h("td", { text: e.arm }),
          h("td", {}, [h("span", { class: "badge " + (e.success ? "pass" : "fail"), "data-field": "success", text: e.success ? "passed" : "failed" })]),
          h("td", { class: "num", "data-field": "iterations", text: e.iterations }),
          h("td", { class: "num", "data-field": "tokens", text: count(e.inputTokens) + " / " + count(e.outputTokens) }),
          h("td", { class: "num", "data-field": "costUsd", text: dollars(e.costUsd) }),
          h("td", { class: "num", "data-field": "wallSeconds", text: e.wallSeconds.toFixed(1) + " s" }),
          h("td", { class: "verdict-cell", "data-field": "verdict", title: e.verdict || "", text: e.verdict || "" }),
        ]);
      });
      var body = h("tbody", {}, rows);
      var filter = null;
      if (run.arms.length > 1) {
        var buttons = ["all"].concat(run.arms.map(function (a) { return a.arm; })).map(function (arm) {
          return h("button", { type: "button", "data-arm-filter": arm, "aria-pressed": arm === "all" ? "true" : "false", text: arm, onclick: function (event) {
            buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === event.currentTarget ? "true" : "false"); });
            rows.forEach(function (row) { row.hidden = arm !== "all" && row.getAttribute("data-arm") !== arm; });
          } });
        });
        filter = h("div", { class: "segments", role: "group", "aria-label": "arm" }, buttons);
      }
      return [
        h("div", { class: "head" }, [h("h1", { class: "mono", text: run.runId }), h("span", { class: "badge " + run.status, text: run.status })]),
        h("p", { class: "sub", text: run.problems + " problems" + (run.label ? " · " + run.label : "") }),
        h("dl", { class: "facts" }, facts.map(function (f) { return h("div", { class: f[2] || null }, [h("dt", { text: f[0] }), h("dd", {}, f[1])]); })),
        h("div", { class: "arms" }, arms),
        h("div", { class: "toolbar" }, [h("h2", { text: "Problems" }), filter]),
        data.experiments.length
          ? h("div", { class: "card table-card" }, [h("table", { id: "problems" }, [
              h("thead", {}, [h("tr", {}, ["problem", "arm", "result", { t: "iterations", n: 1 }, { t: "tokens in / out", n: 1 }, { t: "cost", n: 1 }, { t: "wall", n: 1 }, "verdict"].map(function (c) {
                return h("th", { class: c.n ? "num" : null, text: c.t || c });
              }))]),
              body,
            ])])
          : h("div", { class: "card empty", text: "No experiments recorded yet." }),
      ];
    });
  }

  function section(title, field, text, open) {
    if (text === null || text === undefined || text === "") return null;
    return h("details", { open: open }, [h("summary", { text: title }), h("pre", { "data-field": field, text: text })]);
  }

  function showExperiment(id) {
    return getJson("/api/experiments/" + encodeURIComponent(id)).then(function (data) {
      var e = data.experiment;
      setCrumbs([{ text: e.runId, href: runHref(e.runId) }, { text: e.problemId + " · " + e.arm }]);
      document.title = e.problemId + " · koderz view";
      var stat = function (label, field, value) { return h("div", { class: "stat" }, [h("div", { class: "k", text: label }), h("div", { class: "v", "data-field": field, text: value })]); };
      var steps = data.steps.map(function (s) {
        var metric = function (label, field, value) { return h("span", {}, [label + " ", h("b", { "data-field": field, text: value })]); };
        return h("li", { class: "card step", "data-step-index": s.index }, [
          h("header", {}, [
            h("span", { class: "step-no", text: s.index + 1 }),
            h("span", { class: "agent", "data-field": "agent", text: s.agent }),
            s.model ? h("span", { class: "pill", "data-field": "model", text: s.model }) : null,
            h("span", { class: "metrics" }, [
              s.visiblePassFraction === null || s.visiblePassFraction === undefined ? null : metric("visible tests", "visiblePassFraction", Math.round(s.visiblePassFraction * 100) + "%"),
              metric("in", "inputTokens", count(s.inputTokens)),
              metric("out", "outputTokens", count(s.outputTokens)),
              metric("cost", "costUsd", dollars(s.costUsd)),
              metric("latency", "latencyMs", secondsFromMs(s.latencyMs)),
            ]),
          ]),
          h("div", { class: "step-body" }, [
            section("Prompt", "prompt", s.prompt, false),
            section("Response", "response", s.response, true),
            section("Code", "code", s.code, false),
            section("Test output", "testOutput", s.testOutput, true),
          ]),
        ]);
      });
      return [
        h("div", { class: "head" }, [h("h1", { class: "mono", text: e.problemId }), h("span", { class: "badge " + (e.success ? "pass" : "fail"), "data-field": "success", text: e.success ? "passed" : "failed" })]),
        h("p", { class: "sub" }, [e.arm + " arm of ", h("a", { class: "mono", href: runHref(e.runId), text: e.runId })]),
        h("div", { class: "stats" }, [
          stat("iterations", "iterations", count(e.iterations)),
          stat("tokens in / out", "tokens", count(e.inputTokens) + " / " + count(e.outputTokens)),
          stat("cost", "costUsd", dollars(e.costUsd)),
          stat("wall time", "wallSeconds", e.wallSeconds.toFixed(1) + " s"),
          stat("steps", "steps", data.steps.length),
        ]),
        e.verdict ? h("pre", { class: "verdict " + (e.success ? "pass" : "fail"), "data-field": "verdict", text: e.verdict }) : null,
        h("h2", { text: "Trajectory" }),
        steps.length ? h("ol", { class: "steps" }, steps) : h("div", { class: "card empty", text: "No steps recorded for this problem." }),
        e.finalCode ? h("h2", { text: "Final code" }) : null,
        e.finalCode ? h("pre", { "data-field": "finalCode", text: e.finalCode }) : null,
      ];
    });
  }

  function showError(error) {
    return [h("div", { class: "card error" }, [h("div", { text: error.message }), error.hint ? h("div", { class: "hint", text: error.hint }) : null])];
  }

  // ── routing: #/, #/runs/RUN, #/experiments/EXPERIMENT; every visit asks the store again ───
  function route() {
    var parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    var view = ++currentView;
    var name, load;
    if (parts.length === 0) { name = "runs"; load = showRuns(); }
    else if (parts[0] === "runs" && parts.length === 2) { name = "run"; load = showRun(decodeURIComponent(parts[1])); }
    else if (parts[0] === "experiments" && parts.length === 2) { name = "experiment"; load = showExperiment(decodeURIComponent(parts[1])); }
    else { name = "error"; load = Promise.reject(new Error("No page at " + location.hash)); }
    app.setAttribute("aria-busy", "true");
    load.catch(function (error) { name = "error"; setCrumbs([]); return showError(error); }).then(function (nodes) {
      if (view !== currentView) return; // a later navigation won
      app.replaceChildren.apply(app, nodes.filter(Boolean));
      app.setAttribute("data-view", name);
      app.removeAttribute("aria-busy");
    });
  }
  document.getElementById("refresh").addEventListener("click", route);
  window.addEventListener("hashchange", function () { route(); window.scrollTo(0, 0); });
  route();
})();
`;
