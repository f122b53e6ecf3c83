// @ts-check
/**
 * The viewer's page script (server.ts serves it as /app.js). It builds every element with
 * createElement/textContent: run ids, prompts, responses and test output are untrusted text and
 * are never parsed as HTML. Plain ES2017: it runs in the browser, not in Node; `npm run lint`
 * type-checks it (tsconfig.pages.json).
 */
(function () {
  "use strict";
  var app = /** @type {HTMLElement} */ (document.getElementById("app"));
  var crumbs = /** @type {HTMLElement} */ (document.getElementById("crumbs"));
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
          var error = /** @type {Error & { hint?: string | null }} */ (new Error(body.error ? body.error.message : "HTTP " + response.status));
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
            h("a", { href: runHref(run.runId), "data-field": "name", text: run.name }),
            h("div", { class: "meta mono", text: run.runId }),
            h("div", { class: "meta", text: run.kind + " · started " + when(run.startTime) }),
          ]),
          h("td", { "data-field": "models", text: run.models.join(", ") || "–" }),
          h("td", { text: run.mode }),
          h("td", { "data-field": "suite", text: run.suite || "–" }),
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
          ? table(["run", "model(s)", "mode", "suite", "stage", "status", { text: "problems", num: true }, "success", { text: "tokens in / out", num: true }, { text: "cost", num: true }], rows)
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
      // Suites with several categories get a card per category, and a filter, as arms do.
      var byCategory = data.categories.length > 1;
      var categories = data.categories.map(function (c) {
        return h("div", { class: "card arm-card", "data-category": c.category }, [
          h("div", { class: "name", text: c.category }),
          h("div", { class: "big", "data-field": "successRate", text: percent(c.successRate) }),
          h("div", { class: "line", text: c.successes + " / " + c.experiments + " solved" + (c.meanScore === null ? "" : " · mean score " + c.meanScore.toFixed(2) + "/5") }),
          h("div", { class: "line", text: dollars(c.costUsd) }),
        ]);
      });
      var rows = data.experiments.map(function (e) {
        return linkRow(experimentHref(e.experimentId), { "data-experiment": e.experimentId, "data-arm": e.arm, "data-problem": e.problemId, "data-category": e.category }, [
          h("td", {}, [h("a", { class: "mono", href: experimentHref(e.experimentId), text: e.problemId })]),
          h("td", { text: e.arm }),
          byCategory ? h("td", { "data-field": "category", text: e.category + (e.tier ? " · " + e.tier : "") }) : null,
          h("td", {}, [h("span", { class: "badge " + (e.success ? "pass" : "fail"), "data-field": "success", text: e.success ? "passed" : "failed" })]),
          h("td", { class: "num", "data-field": "iterations", text: e.iterations }),
          h("td", { class: "num", "data-field": "tokens", text: count(e.inputTokens) + " / " + count(e.outputTokens) }),
          h("td", { class: "num", "data-field": "costUsd", text: dollars(e.costUsd) }),
          h("td", { class: "num", "data-field": "wallSeconds", text: e.wallSeconds.toFixed(1) + " s" }),
          h("td", { class: "verdict-cell", "data-field": "verdict", title: e.verdict || "", text: e.verdict || "" }),
        ]);
      });
      var body = h("tbody", {}, rows);
      // The arm and category filters combine: a row shows when it matches both.
      var chosen = { arm: "all", category: "all" };
      function segments(name, values) {
        var buttons = ["all"].concat(values).map(function (value) {
          var props = { type: "button", "aria-pressed": value === "all" ? "true" : "false", text: value, onclick: function (event) {
            buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === event.currentTarget ? "true" : "false"); });
            chosen[name] = value;
            rows.forEach(function (row) { row.hidden = ["arm", "category"].some(function (key) { return chosen[key] !== "all" && row.getAttribute("data-" + key) !== chosen[key]; }); });
          } };
          props["data-" + name + "-filter"] = value;
          return h("button", props);
        });
        return h("div", { class: "segments", role: "group", "aria-label": name }, buttons);
      }
      var filter = run.arms.length > 1 ? segments("arm", run.arms.map(function (a) { return a.arm; })) : null;
      var categoryFilter = byCategory ? segments("category", data.categories.map(function (c) { return c.category; })) : null;
      return [
        h("div", { class: "head" }, [h("h1", { class: "mono", text: run.runId }), h("span", { class: "badge " + run.status, text: run.status })]),
        h("p", { class: "sub", text: run.problems + " problems" + (run.label ? " · " + run.label : "") }),
        h("dl", { class: "facts" }, facts.map(function (f) { return h("div", { class: f[2] || null }, [h("dt", { text: f[0] }), h("dd", {}, f[1])]); })),
        h("div", { class: "arms" }, arms),
        byCategory ? h("h2", { text: "By category" }) : null,
        byCategory ? h("div", { class: "arms", id: "categories" }, categories) : null,
        h("div", { class: "toolbar" }, [h("h2", { text: "Problems" }), filter, categoryFilter]),
        data.experiments.length
          ? h("div", { class: "card table-card" }, [h("table", { id: "problems" }, [
              h("thead", {}, [h("tr", {}, ["problem", "arm", byCategory ? "category" : null, "result", { t: "iterations", n: 1 }, { t: "tokens in / out", n: 1 }, { t: "cost", n: 1 }, { t: "wall", n: 1 }, "verdict"].filter(Boolean).map(function (/** @type {any} */ c) {
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
            h("span", { class: "agent", "data-field": "agent", text: s.action && s.action !== "model" ? `${s.agent}: ${s.action}` : s.agent }),
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
        // A rubric's criteria or a tool-trace case's checks: what held and what did not.
        e.criteria.length ? h("h2", { text: "Score " + (e.score === null ? "" : e.score.toFixed(2) + "/5") }) : null,
        e.criteria.length ? table(["criterion", "by", { text: "weight", num: true }, { text: "value", num: true }, "detail"], e.criteria.map(function (c) {
          return h("tr", { "data-criterion": c.name }, [
            h("td", { text: c.name }),
            h("td", { text: c.by }),
            h("td", { class: "num", text: c.weight }),
            h("td", { class: "num", "data-field": "value", text: c.value.toFixed(2) }),
            h("td", { class: "verdict-cell", title: c.error || c.detail, text: c.error ? "undecided: " + c.error : c.detail }),
          ]);
        })) : null,
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
  /** @type {HTMLElement} */ (document.getElementById("refresh")).addEventListener("click", route);
  window.addEventListener("hashchange", function () { route(); window.scrollTo(0, 0); });
  route();
})();
