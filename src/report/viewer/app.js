// @ts-check
/**
 * The viewer's page script (server.ts serves it as /app.js). It builds every element with
 * createElement/textContent: run ids, prompts, responses and test output are untrusted text and
 * are never parsed as HTML into the page. Plain ES2017: it runs in the browser, not in Node;
 * `npm run lint` type-checks it (tsconfig.pages.json).
 *
 * Pages (the hash is the address, so any page can be shared or bookmarked):
 *   #/                         runs: search, filters, sortable columns, pick runs to compare
 *   #/runs/RUN                 a run: its arms, categories and problems
 *   #/experiments/EXPERIMENT   a problem's trajectory: steps, highlighted code, changes between attempts
 *   #/compare/REF,REF          runs problem by problem (REF: a run id, RUN:ARM or a label)
 */
(function () {
  "use strict";
  var app = /** @type {HTMLElement} */ (document.getElementById("app"));
  var crumbs = /** @type {HTMLElement} */ (document.getElementById("crumbs"));
  var currentView = 0;
  /** The libraries under /vendor/ (highlight.js with Python, jsdiff); the page still works without them. */
  var libraries = /** @type {{ hljs?: { highlight(code: string, options: { language: string, ignoreIllegals?: boolean }): { value: string } }, Diff?: { diffLines(before: string, after: string): { value: string, added?: boolean, removed?: boolean }[] } }} */ (
    /** @type {any} */ (window)
  );
  /** A trajectory with at least this many steps gets an outline to jump between them. */
  var OUTLINE_MIN_STEPS = 6;

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

  /** Shares arrive as fractions (the JSON contract); the page shows percents. */
  function percent(fraction) { return fraction === null || fraction === undefined ? "n/a" : (fraction * 100).toFixed(1) + "%"; }
  function count(n) { return n === null || n === undefined ? "n/a" : n.toLocaleString("en-US"); }
  function dollars(d) { return d === null || d === undefined ? "n/a" : "$" + d.toFixed(4); }
  function tokens(input, output) { return input === null || output === null ? "n/a" : count(input) + " / " + count(output); }
  function secondsFromMs(ms) { return (ms / 1000).toFixed(2) + " s"; }
  function when(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : "–"; }
  function runHref(runId) { return "#/runs/" + encodeURIComponent(runId); }
  function experimentHref(id) { return "#/experiments/" + encodeURIComponent(id); }
  function compareHref(references) { return "#/compare/" + references.map(encodeURIComponent).join(","); }

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

  /** A row that opens `href` when clicked anywhere but on its own links and controls. */
  function linkRow(href, props, cells) {
    props.class = (props.class ? props.class + " " : "") + "link";
    props.onclick = function (event) { if (!/^(A|INPUT|LABEL|BUTTON)$/.test(event.target.tagName)) location.hash = href; };
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
  function meter(node, fraction) { node.querySelector(".meter > div").style.width = Math.round((fraction || 0) * 100) + "%"; return node; }

  /** A row of toggle buttons; `onChange(value)` when one is picked. */
  function segments(name, values, chosen, onChange, labels) {
    var buttons = values.map(function (value) {
      var props = { type: "button", "aria-pressed": value === chosen ? "true" : "false", text: labels ? labels[value] : value, onclick: function (event) {
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", b === event.currentTarget ? "true" : "false"); });
        onChange(value);
      } };
      props["data-" + name + "-filter"] = value;
      return h("button", props);
    });
    return h("div", { class: "segments", role: "group", "aria-label": name }, buttons);
  }

  // ── code: highlighted by highlight.js, rebuilt from its output as spans and text only ─────
  /**
   * highlight.js returns markup with the code's text escaped. That markup is read in an inert
   * document and copied back as <span class> and text nodes alone, so even a flaw in the library
   * could not put an element of the code's making into the page; when the copy's text is not the
   * code exactly, the code is shown plain.
   */
  function codeBlock(field, code) {
    var pre = h("pre", { class: "code", "data-field": field });
    var hljs = libraries.hljs;
    // A repository run's code is a patch, not Python: it is shown as written.
    var patch = /^(diff --git |--- \S)/.test(code);
    if (hljs && !patch) {
      var markup = hljs.highlight(code, { language: "python", ignoreIllegals: true }).value;
      var parsed = new DOMParser().parseFromString("<div>" + markup + "</div>", "text/html").body.firstElementChild;
      if (parsed) copySpans(parsed, pre);
      if (pre.textContent === code) { pre.classList.add("highlighted"); return pre; }
    }
    pre.replaceChildren(document.createTextNode(code));
    return pre;
  }

  function copySpans(from, to) {
    Array.prototype.forEach.call(from.childNodes, function (node) {
      if (node.nodeType === Node.ELEMENT_NODE && node.tagName === "SPAN") {
        var classes = (node.getAttribute("class") || "").split(/\s+/).filter(function (c) { return /^[A-Za-z][\w-]*$/.test(c); });
        var span = h("span", { class: classes.join(" ") || null });
        copySpans(node, span);
        to.appendChild(span);
      } else {
        to.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
  }

  /** The lines `after` changed from `before` (jsdiff), as "+ " / "- " / "  " lines. */
  function diffBlock(field, before, after) {
    var diff = libraries.Diff;
    if (!diff) return null;
    var added = 0;
    var removed = 0;
    var lines = [];
    diff.diffLines(before, after).forEach(function (part) {
      var kind = part.added ? "add" : part.removed ? "del" : "same";
      var text = part.value.replace(/\n$/, "").split("\n");
      if (kind === "add") added += text.length;
      if (kind === "del") removed += text.length;
      text.forEach(function (line) { lines.push(h("span", { class: "line " + kind }, [(kind === "add" ? "+ " : kind === "del" ? "- " : "  ") + line + "\n"])); });
    });
    return { added: added, removed: removed, node: h("pre", { class: "diff", "data-field": field }, lines) };
  }

  // ── runs: search, filters, sort, and a pick of runs to compare ───────────────────────────
  /** Kept between visits, so going back to the runs finds them as they were left. */
  var runsState = { search: "", status: "", suite: "", model: "", sort: "started", descending: true, selected: /** @type {string[]} */ ([]) };

  function bestRate(run) {
    return run.arms.reduce(function (best, arm) { return arm.successRate === null ? best : Math.max(best, arm.successRate); }, -1);
  }

  /** The runs list's columns: what each shows, how it sorts, and whether it gives way on a narrow screen. */
  var RUN_COLUMNS = [
    { key: "name", text: "run", sort: function (r) { return r.name.toLowerCase(); } },
    { key: "label", text: "label", wide: true, sort: function (r) { return r.label === null ? null : r.label.toLowerCase(); } },
    { key: "models", text: "model(s)", sort: function (r) { return r.models.join(", ").toLowerCase() || null; } },
    { key: "mode", text: "mode", wide: true, sort: function (r) { return r.mode; } },
    { key: "suite", text: "suite", sort: function (r) { return r.suite; } },
    { key: "status", text: "status", sort: function (r) { return r.status; } },
    { key: "problems", text: "problems", num: true, wide: true, sort: function (r) { return r.problems; } },
    { key: "success", text: "success", sort: function (r) { var best = bestRate(r); return best < 0 ? null : best; } },
    { key: "tokens", text: "tokens in / out", num: true, wide: true, widest: true, sort: function (r) { return r.inputTokens === null ? null : r.inputTokens + r.outputTokens; } },
    { key: "cost", text: "cost", num: true, sort: function (r) { return r.costUsd; } },
    { key: "started", text: "started", wide: true, sort: function (r) { return r.startTime; } },
  ];

  function sortRuns(runs) {
    var column = RUN_COLUMNS.filter(function (c) { return c.key === runsState.sort; })[0] || RUN_COLUMNS[RUN_COLUMNS.length - 1];
    var sign = runsState.descending ? -1 : 1;
    return runs.slice().sort(function (a, b) {
      var x = column.sort(a);
      var y = column.sort(b);
      // Unknown values go last whichever the direction.
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return x < y ? -sign : x > y ? sign : 0;
    });
  }

  function matchesRun(run) {
    if (runsState.status && run.status !== runsState.status) return false;
    if (runsState.suite && run.suite !== runsState.suite) return false;
    if (runsState.model && run.models.indexOf(runsState.model) < 0) return false;
    var words = runsState.search.toLowerCase().split(/\s+/).filter(Boolean);
    var haystack = [run.name, run.runId, run.label || "", run.mode, run.suite || "", run.status, run.kind, run.stage || ""].concat(run.models, run.tags).join(" ").toLowerCase();
    return words.every(function (word) { return haystack.indexOf(word) >= 0; });
  }

  function distinct(values) {
    return values.filter(function (v, i) { return v !== null && v !== "" && values.indexOf(v) === i; }).sort();
  }

  function filterSelect(name, label, values) {
    var select = h("select", { id: "filter-" + name, "aria-label": label }, [h("option", { value: "", text: label })].concat(values.map(function (v) { return h("option", { value: v, text: v }); })));
    select.value = values.indexOf(runsState[name]) >= 0 ? runsState[name] : "";
    runsState[name] = select.value;
    return select;
  }

  function runRow(run) {
    var selected = runsState.selected.indexOf(run.runId) >= 0;
    var cells = {
      name: h("td", { class: "run-cell" }, [
        h("a", { href: runHref(run.runId), "data-field": "name", text: run.name }),
        h("div", { class: "meta mono", "data-field": "runId", text: run.runId }),
        // On a narrow screen the mode column gives way, and the mode shows here.
        h("div", { class: "meta" }, [run.kind, h("span", { class: "narrow-only", text: " · " + run.mode }), run.stage ? " · " + run.stage : "", h("span", { class: "narrow-only", text: " · " + when(run.startTime) })]),
      ]),
      label: h("td", { "data-field": "label", class: run.label ? null : "muted", text: run.label || "–" }),
      // One model a line; textContent still reads "a, b" for whoever copies it.
      models: h("td", { class: "models-cell", "data-field": "models" }, run.models.length ? run.models.map(function (model, i) {
        return h("span", { class: "model" }, [model + (i < run.models.length - 1 ? ", " : "")]);
      }) : ["–"]),
      mode: h("td", { "data-field": "mode", text: run.mode }),
      suite: h("td", { "data-field": "suite", text: run.suite || "–" }),
      status: h("td", {}, [h("span", { class: "badge " + run.status, "data-field": "status", text: run.status })]),
      problems: h("td", { class: "num", "data-field": "problems", text: count(run.problems) }),
      success: h("td", { "data-field": "success" }, run.arms.length ? run.arms.map(function (arm) {
        return meter(rate(run.arms.length > 1 ? arm.arm : "", arm), arm.successRate);
      }) : [h("span", { class: "muted", text: "–" })]),
      tokens: h("td", { class: "num", "data-field": "tokens", text: tokens(run.inputTokens, run.outputTokens) }),
      cost: h("td", { class: "num", "data-field": "costUsd", text: dollars(run.costUsd) }),
      started: h("td", { "data-field": "started", title: when(run.startTime) }, [h("span", { class: "nowrap", text: when(run.startTime).slice(0, 10) }), " ", h("span", { class: "muted nowrap", text: when(run.startTime).slice(11) })]),
    };
    RUN_COLUMNS.forEach(function (c) { if (c.wide) cells[c.key].classList.add(c.widest ? "widest-only" : "wide-only"); });
    var box = h("input", { type: "checkbox", "data-select": run.runId, "aria-label": "select " + run.name + " to compare", checked: selected });
    return linkRow(runHref(run.runId), { "data-run": run.runId, class: selected ? "selected" : null }, [h("td", { class: "pick" }, [box])].concat(RUN_COLUMNS.map(function (c) { return cells[c.key]; })));
  }

  function showRuns() {
    return getJson("/api/runs").then(function (data) {
      setCrumbs([]);
      document.title = "Runs · koderz view";
      var all = data.runs;
      var byId = {};
      all.forEach(function (run) { byId[run.runId] = run; });
      runsState.selected = runsState.selected.filter(function (id) { return byId[id]; });
      if (!all.length) {
        return [h("div", { class: "head" }, [h("h1", { text: "Runs" })]), h("div", { class: "card empty", text: "No runs yet: start one with koderz benchmark." })];
      }

      var search = h("input", { type: "search", id: "run-search", placeholder: "Search name, id, model, suite, tag…", "aria-label": "search runs", value: runsState.search });
      var filters = [
        filterSelect("status", "all statuses", distinct(all.map(function (r) { return r.status; }))),
        filterSelect("suite", "all suites", distinct(all.map(function (r) { return r.suite; }))),
        filterSelect("model", "all models", distinct([].concat.apply([], all.map(function (r) { return r.models; })))),
      ];
      var compareButton = h("button", { type: "button", id: "compare-selected", class: "primary" });
      var shown = h("p", { class: "sub", id: "runs-shown" });
      var body = h("tbody");
      var headRow = h("tr", {}, [h("th", { class: "pick" }, [h("span", { class: "visually-hidden", text: "compare" })])].concat(RUN_COLUMNS.map(function (c) {
        return h("th", { class: (c.num ? "num " : "") + (c.wide ? (c.widest ? "widest-only" : "wide-only") : ""), "data-sort": c.key }, [h("button", { type: "button", class: "sort", text: c.text, onclick: function () {
          runsState.descending = runsState.sort === c.key ? !runsState.descending : c.key === "started";
          runsState.sort = c.key;
          draw();
        } })]);
      })));

      function compareTargets() {
        // One run with several arms compares its arms; two or more runs compare each other.
        if (runsState.selected.length === 1 && byId[runsState.selected[0]].arms.length > 1) return runsState.selected;
        return runsState.selected.length >= 2 ? runsState.selected : null;
      }

      function draw() {
        var visible = sortRuns(all.filter(matchesRun));
        body.replaceChildren.apply(body, visible.length ? visible.map(runRow) : [h("tr", {}, [h("td", { colspan: RUN_COLUMNS.length + 1, class: "empty", text: "No run matches: clear the search or a filter." })])]);
        Array.prototype.forEach.call(headRow.querySelectorAll("th[data-sort]"), function (th) {
          th.setAttribute("aria-sort", th.getAttribute("data-sort") === runsState.sort ? (runsState.descending ? "descending" : "ascending") : "none");
        });
        shown.textContent = visible.length + " of " + all.length + " run" + (all.length === 1 ? "" : "s") + (runsState.selected.length ? " · " + runsState.selected.length + " picked to compare" : " · tick runs to compare them");
        var targets = compareTargets();
        compareButton.textContent = targets && targets.length === 1 ? "Compare its arms" : "Compare" + (runsState.selected.length ? " " + runsState.selected.length : "") + " runs";
        compareButton.disabled = !targets;
      }

      search.addEventListener("input", function () { runsState.search = search.value; draw(); });
      filters.forEach(function (select) {
        select.addEventListener("change", function () { runsState[select.id.replace("filter-", "")] = select.value; draw(); });
      });
      body.addEventListener("change", function (event) {
        var box = /** @type {HTMLInputElement} */ (event.target);
        var id = box.getAttribute("data-select");
        if (!id) return;
        runsState.selected = runsState.selected.filter(function (s) { return s !== id; }).concat(box.checked ? [id] : []);
        var row = box.closest("tr");
        if (row) row.classList.toggle("selected", box.checked);
        draw();
      });
      compareButton.addEventListener("click", function () { var targets = compareTargets(); if (targets) location.hash = compareHref(targets); });
      draw();

      return [
        h("div", { class: "head" }, [h("h1", { text: "Runs" })]),
        shown,
        h("div", { class: "filters" }, [search].concat(filters, [compareButton])),
        h("div", { class: "card table-card" }, [h("table", { id: "runs" }, [h("thead", {}, [headRow]), body])]),
      ];
    });
  }

  // ── a run ─────────────────────────────────────────────────────────────────────────────
  function showRun(runId) {
    return getJson("/api/runs/" + encodeURIComponent(runId)).then(function (data) {
      var run = data.run;
      setCrumbs([{ text: run.name + " (" + run.runId + ")" }]);
      document.title = run.name + " · koderz view";
      var pills = function (items) { return items.length ? items.map(function (item) { return h("span", { class: "pill", text: item }); }) : ["–"]; };
      // Tags the store adds itself (kind:, mode:, model:) repeat the facts above them.
      var ownTags = run.tags.filter(function (tag) { return !/^(kind|mode|model):/.test(tag); });
      var facts = [
        ["kind", [run.kind]], ["mode", [run.mode]], ["suite", [run.suite || "–"]], ["stage", [run.stage || "–"]], ["started", [when(run.startTime)]], ["ended", [when(run.endTime)]],
        ["models", pills(run.models), "wide"], ["tags", pills(ownTags), "wide"],
      ];
      var arms = run.arms.map(function (arm) {
        return h("div", { class: "card arm-card", "data-arm": arm.arm }, [
          h("div", { class: "name", text: arm.arm }),
          h("div", { class: "big", "data-field": "successRate", text: percent(arm.successRate) }),
          h("div", { class: "line", text: arm.successes + " / " + arm.experiments + " solved · " + (arm.experiments ? (arm.iterations / arm.experiments).toFixed(1) : "0") + " iterations per problem" }),
          h("div", { class: "line", text: tokens(arm.inputTokens, arm.outputTokens) + " tokens · " + dollars(arm.costUsd) }),
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
        return linkRow(experimentHref(e.experimentId), { "data-experiment": e.experimentId, "data-arm": e.arm, "data-problem": e.problemId, "data-category": e.category, "data-result": e.success ? "passed" : "failed" }, [
          h("td", {}, [h("a", { class: "mono", href: experimentHref(e.experimentId), text: e.problemId })]),
          h("td", { text: e.arm }),
          byCategory ? h("td", { "data-field": "category", text: e.category + (e.tier ? " · " + e.tier : "") }) : null,
          h("td", {}, [h("span", { class: "badge " + (e.success ? "pass" : "fail"), "data-field": "success", text: e.success ? "passed" : "failed" })]),
          h("td", { class: "num", "data-field": "iterations", text: e.iterations }),
          h("td", { class: "num wide-only", "data-field": "tokens", text: tokens(e.inputTokens, e.outputTokens) }),
          h("td", { class: "num", "data-field": "costUsd", text: dollars(e.costUsd) }),
          h("td", { class: "num wide-only", "data-field": "wallSeconds", text: e.wallSeconds.toFixed(1) + " s" }),
          h("td", { class: "verdict-cell", "data-field": "verdict", title: e.verdict || "", text: e.verdict || "" }),
        ]);
      });
      // The result, arm and category filters combine: a row shows when it matches all three.
      var chosen = { result: "all", arm: "all", category: "all" };
      function rowFilter(name) {
        return function (value) {
          chosen[name] = value;
          rows.forEach(function (row) { row.hidden = Object.keys(chosen).some(function (key) { return chosen[key] !== "all" && row.getAttribute("data-" + key) !== chosen[key]; }); });
        };
      }
      var resultFilter = segments("result", ["all", "failed", "passed"], "all", rowFilter("result"));
      var filter = run.arms.length > 1 ? segments("arm", ["all"].concat(run.arms.map(function (a) { return a.arm; })), "all", rowFilter("arm")) : null;
      var categoryFilter = byCategory ? segments("category", ["all"].concat(data.categories.map(function (c) { return c.category; })), "all", rowFilter("category")) : null;
      return [
        h("div", { class: "head" }, [
          h("h1", { text: run.name }),
          h("span", { class: "badge " + run.status, text: run.status }),
          run.arms.length > 1 ? h("a", { class: "button", id: "compare-arms", href: compareHref([run.runId]), text: "Compare its arms" }) : null,
        ]),
        h("p", { class: "sub" }, [h("span", { class: "mono", "data-field": "runId", text: run.runId }), " · " + run.problems + " problems"]),
        h("dl", { class: "facts" }, facts.map(function (f) { return h("div", { class: f[2] || null }, [h("dt", { text: f[0] }), h("dd", {}, f[1])]); })),
        h("div", { class: "arms" }, arms),
        byCategory ? h("h2", { text: "By category" }) : null,
        byCategory ? h("div", { class: "arms", id: "categories" }, categories) : null,
        h("div", { class: "toolbar" }, [h("h2", { text: "Problems" }), h("div", { class: "filter-group" }, [resultFilter, filter, categoryFilter])]),
        data.experiments.length
          ? h("div", { class: "card table-card" }, [h("table", { id: "problems" }, [
              h("thead", {}, [h("tr", {}, ["problem", "arm", byCategory ? "category" : null, "result", { t: "iterations", n: 1 }, { t: "tokens in / out", n: 1, w: 1 }, { t: "cost", n: 1 }, { t: "wall", n: 1, w: 1 }, "verdict"].filter(Boolean).map(function (/** @type {any} */ c) {
                return h("th", { class: ((c.n ? "num " : "") + (c.w ? "wide-only" : "")) || null, text: c.t || c });
              }))]),
              h("tbody", {}, rows),
            ])])
          : h("div", { class: "card empty", text: "No experiments recorded yet." }),
      ];
    });
  }

  // ── compare: runs problem by problem ─────────────────────────────────────────────────────
  /** A column is a run, or one arm of a run with several: then the arm is part of its name. */
  function columnTitle(column) { return column.reference === column.runId ? column.name : column.name + " · " + column.arm + " arm"; }

  function signedPoints(fraction) { return (fraction >= 0 ? "+" : "−") + Math.abs(fraction * 100).toFixed(1); }

  function showCompare(references) {
    return getJson("/api/compare?runs=" + references.map(encodeURIComponent).join(",")).then(function (data) {
      var columns = data.columns;
      setCrumbs([{ text: "Compare " + columns.length + " runs" }]);
      document.title = "Compare · koderz view";
      var cards = columns.map(function (column, i) {
        var pair = i === 0 ? null : data.pairs[i - 1];
        return h("div", { class: "card arm-card", "data-column": i }, [
          h("div", { class: "name" }, [i === 0 ? "baseline · " : "", h("a", { href: runHref(column.runId), "data-field": "name", text: columnTitle(column) })]),
          h("div", { class: "meta mono", text: column.reference }),
          h("div", { class: "big", "data-field": "successRate", text: percent(column.successRate) }),
          h("div", { class: "line", text: column.successes + " / " + column.problems + " shared problems solved · " + dollars(column.costUsd) }),
          pair
            ? h("div", { class: "line", "data-field": "pair", text: pair.wins + " won · " + pair.losses + " lost · " + pair.ties + " tied vs baseline; " + signedPoints(pair.successRateDifference) + " pts [" + signedPoints(pair.interval.lower) + ", " + signedPoints(pair.interval.upper) + "], McNemar p " + pair.mcnemarP.toFixed(3) })
            : h("div", { class: "line", text: "models: " + (column.models.join(", ") || "–") }),
        ]);
      });

      var rows = [];
      var body = h("tbody");
      data.rows.forEach(function (row) {
        var detail = h("tr", { class: "detail", hidden: true, "data-detail-for": row.problemId }, [h("td", { colspan: columns.length + 1 })]);
        var tr = h("tr", { class: "link", "data-problem": row.problemId, "data-differ": row.differ ? "true" : "false", "data-failed": row.failed ? "true" : "false", "aria-expanded": "false", onclick: function (event) {
          if (event.target.tagName === "A") return;
          toggleDetail(row, tr, detail, columns);
        } }, [h("td", { class: "mono problem-cell" }, [h("button", { type: "button", class: "expand", "aria-label": "show each side of " + row.problemId, text: "▸" }), row.problemId])].concat(row.results.map(function (cell, i) {
          return h("td", { "data-column": i }, [cell
            ? h("span", { class: "badge " + (cell.success ? "pass" : "fail"), "data-field": "success", title: cell.verdict || "", text: cell.success ? "passed" : "failed" })
            : h("span", { class: "muted", "data-field": "success", text: "–" })]);
        })));
        rows.push({ row: row, tr: tr, detail: detail });
        body.appendChild(tr);
        body.appendChild(detail);
      });

      var shownText = h("span", { class: "muted", id: "compare-shown" });
      var counts = { all: data.rows.length, differ: data.rows.filter(function (r) { return r.differ; }).length, failed: data.rows.filter(function (r) { return r.failed; }).length };
      function applyFilter(value) {
        var shown = 0;
        rows.forEach(function (entry) {
          var keep = value === "all" || (value === "differ" && entry.row.differ) || (value === "failed" && entry.row.failed);
          entry.tr.hidden = !keep;
          entry.detail.hidden = !keep || entry.tr.getAttribute("aria-expanded") !== "true";
          if (keep) shown++;
        });
        shownText.textContent = shown + " of " + data.rows.length + " shown";
      }
      var filter = segments("compare", ["all", "differ", "failed"], "all", applyFilter, {
        all: "all " + counts.all, differ: "differ " + counts.differ, failed: "failed somewhere " + counts.failed,
      });
      applyFilter("all");

      return [
        h("div", { class: "head" }, [h("h1", { text: "Compare " + columns.length + " runs" })]),
        h("p", { class: "sub", text: data.sharedProblems + " problems in every run; figures over those, against the first (the baseline)" }),
        data.note ? h("p", { class: "sub note", text: data.note }) : null,
        h("div", { class: "arms", id: "columns" }, cards),
        h("div", { class: "toolbar" }, [h("h2", {}, ["Problems ", shownText]), filter]),
        h("div", { class: "card table-card" }, [h("table", { id: "compare" }, [
          h("thead", {}, [h("tr", {}, [h("th", { text: "problem" })].concat(columns.map(function (column, i) {
            return h("th", { class: "column-head", "data-column": i }, [h("span", { class: "column-name", text: columnTitle(column) }), h("span", { class: "meta mono", text: column.reference })]);
          })))]),
          body,
        ])]),
      ];
    });
  }

  /** Opens (or closes) a problem's row: each side's verdict and final code, side by side. */
  function toggleDetail(row, tr, detail, columns) {
    var open = tr.getAttribute("aria-expanded") !== "true";
    tr.setAttribute("aria-expanded", open ? "true" : "false");
    detail.hidden = !open;
    if (!open || detail.getAttribute("data-loaded")) return;
    detail.setAttribute("data-loaded", "true");
    var sides = h("div", { class: "sides" }, row.results.map(function (cell, i) {
      var column = columns[i];
      var side = h("section", { class: "side", "data-column": i }, [
        h("header", {}, [
          h("span", { class: "column-name", text: columnTitle(column) }),
          cell ? h("span", { class: "badge " + (cell.success ? "pass" : "fail"), "data-field": "success", text: cell.success ? "passed" : "failed" }) : null,
        ]),
      ]);
      if (!cell) {
        side.appendChild(h("p", { class: "muted", text: "This run has no result for " + row.problemId + "." }));
        return side;
      }
      side.appendChild(h("pre", { class: "verdict " + (cell.success ? "pass" : "fail"), "data-field": "verdict", text: cell.verdict || "(no verdict)" }));
      var code = h("div", { class: "muted", "data-field": "loading", text: "Loading the code…" });
      side.appendChild(code);
      side.appendChild(h("a", { href: experimentHref(cell.experimentId), text: cell.iterations + " iteration" + (cell.iterations === 1 ? "" : "s") + " · open the trajectory" }));
      getJson("/api/experiments/" + encodeURIComponent(cell.experimentId)).then(function (data) {
        code.replaceWith(data.experiment.finalCode ? codeBlock("finalCode", data.experiment.finalCode) : h("p", { class: "muted", text: "No final code recorded." }));
      }, function (error) {
        code.replaceWith(h("p", { class: "error", text: error.message }));
      });
      return side;
    }));
    detail.firstChild.replaceChildren(sides);
  }

  // ── a problem's trajectory ─────────────────────────────────────────────────────────────
  function section(title, field, text, open) {
    if (text === null || text === undefined || text === "") return null;
    return h("details", { open: open }, [h("summary", { text: title }), h("pre", { "data-field": field, text: text })]);
  }

  function stepLabel(s) { return s.action && s.action !== "model" ? s.agent + ": " + s.action : s.agent; }

  function showExperiment(id) {
    return getJson("/api/experiments/" + encodeURIComponent(id)).then(function (data) {
      var e = data.experiment;
      setCrumbs([{ text: data.run.name, href: runHref(e.runId) }, { text: e.problemId + " · " + e.arm }]);
      document.title = e.problemId + " · koderz view";
      var stat = function (label, field, value) { return h("div", { class: "stat" }, [h("div", { class: "k", text: label }), h("div", { class: "v", "data-field": field, text: value })]); };
      var previousCode = null;
      var previousCodeStep = -1;
      var steps = data.steps.map(function (s) {
        var metric = function (label, field, value) { return h("span", {}, [label + " ", h("b", { "data-field": field, text: value })]); };
        // An attempt's code against the attempt before it (the Coder's draft, then each Debugger fix).
        var change = null;
        if (s.code && previousCode !== null && previousCode !== s.code) {
          var diff = diffBlock("codeDiff", previousCode, s.code);
          if (diff) {
            change = h("details", { open: true, class: "change" }, [
              h("summary", {}, ["Changes from step " + (previousCodeStep + 1) + " ", h("span", { class: "diffstat", "data-field": "diffstat" }, [h("span", { class: "add", text: "+" + diff.added }), " ", h("span", { class: "del", text: "−" + diff.removed })])]),
              diff.node,
            ]);
          }
        }
        if (s.code) { previousCode = s.code; previousCodeStep = s.index; }
        return h("li", { class: "card step", id: "step-" + s.index, "data-step-index": s.index }, [
          h("header", {}, [
            h("span", { class: "step-no", text: s.index + 1 }),
            h("span", { class: "agent", "data-field": "agent", text: stepLabel(s) }),
            s.model ? h("span", { class: "pill", "data-field": "model", text: s.model }) : null,
            h("span", { class: "metrics" }, [
              s.visiblePassFraction === null ? null : metric("visible tests", "visiblePassFraction", Math.round(s.visiblePassFraction * 100) + "%"),
              metric("in", "inputTokens", count(s.inputTokens)),
              metric("out", "outputTokens", count(s.outputTokens)),
              metric("cost", "costUsd", dollars(s.costUsd)),
              metric("latency", "latencyMs", secondsFromMs(s.latencyMs)),
            ]),
          ]),
          h("div", { class: "step-body" }, [
            section("Prompt", "prompt", s.prompt, false),
            section("Response", "response", s.response, true),
            s.code ? h("details", {}, [h("summary", { text: "Code" }), codeBlock("code", s.code)]) : null,
            change,
            section("Test output", "testOutput", s.testOutput, true),
          ]),
        ]);
      });
      var outline = data.steps.length >= OUTLINE_MIN_STEPS ? stepOutline(data.steps) : null;
      var trajectory = steps.length ? h("ol", { class: "steps" }, steps) : h("div", { class: "card empty", text: "No steps recorded for this problem." });
      return [
        h("div", { class: "head" }, [h("h1", { class: "mono", text: e.problemId }), h("span", { class: "badge " + (e.success ? "pass" : "fail"), "data-field": "success", text: e.success ? "passed" : "failed" })]),
        h("p", { class: "sub" }, [e.arm + " arm of ", h("a", { href: runHref(e.runId), text: data.run.name }), " ", h("span", { class: "mono muted", text: "(" + e.runId + ")" })]),
        h("div", { class: "stats" }, [
          stat("iterations", "iterations", count(e.iterations)),
          stat("tokens in / out", "tokens", tokens(e.inputTokens, e.outputTokens)),
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
        outline ? h("div", { class: "with-outline" }, [outline, trajectory]) : trajectory,
        e.finalCode ? h("h2", { text: "Final code" }) : null,
        e.finalCode ? codeBlock("finalCode", e.finalCode) : null,
      ];
    });
  }

  /** A jump list of a long trajectory's steps: who took each, and how the visible tests fared. */
  function stepOutline(steps) {
    return h("nav", { class: "card outline", id: "outline", "aria-label": "steps" }, [
      h("div", { class: "outline-title", text: steps.length + " steps" }),
      h("ol", {}, steps.map(function (s) {
        var pass = s.visiblePassFraction;
        return h("li", {}, [h("a", { href: "#step-" + s.index, "data-outline-step": s.index, onclick: function (event) {
          // The hash is the page's address: jump without changing it.
          event.preventDefault();
          var card = document.getElementById("step-" + s.index);
          if (card) card.scrollIntoView({ block: "start" });
        } }, [
          h("span", { class: "outline-no", text: s.index + 1 }),
          h("span", { class: "outline-agent", text: stepLabel(s) }),
          pass === null ? null : h("span", { class: "outline-pass " + (pass === 1 ? "pass" : "fail"), text: Math.round(pass * 100) + "%" }),
        ])]);
      })),
    ]);
  }

  function showError(error) {
    return [h("div", { class: "card error" }, [h("div", { text: error.message }), error.hint ? h("div", { class: "hint", text: error.hint }) : null])];
  }

  // ── routing; every visit asks the store again ───────────────────────────────────────────
  function route() {
    var parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    var view = ++currentView;
    var name, load;
    try {
      if (parts.length === 0) { name = "runs"; load = showRuns(); }
      else if (parts[0] === "runs" && parts.length === 2) { name = "run"; load = showRun(decodeURIComponent(parts[1])); }
      else if (parts[0] === "experiments" && parts.length === 2) { name = "experiment"; load = showExperiment(decodeURIComponent(parts[1])); }
      else if (parts[0] === "compare" && parts.length === 2) { name = "compare"; load = showCompare(parts[1].split(",").filter(Boolean).map(decodeURIComponent)); }
      else throw new Error("No page at " + location.hash);
    } catch (error) {
      // A hand-edited address (a stray %) is a page that explains, not a dead one.
      name = "error";
      load = Promise.reject(error);
    }
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
