import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * The two libraries the viewer's page uses, served from node_modules at fixed URLs: highlight.js
 * (syntax highlighting) and jsdiff (the changes between a trajectory's attempts). Each URL maps
 * to one file chosen here; nothing of a request reaches the file system.
 *
 * highlight.js's "ESM build" (es/core.js) only re-exports its CommonJS lib/core.js, which a
 * browser cannot import, so the core and the one grammar the viewer needs (Python) are wrapped
 * here in a function scope that gives them `module.exports`, and leave one global: `hljs` with
 * Python registered. jsdiff ships a UMD bundle that sets the global `Diff` by itself.
 */

const require = createRequire(import.meta.url);

function commonJsModule(file: string): string {
  return `load(function (module, exports) {\n${readFileSync(file, "utf8")}\n})`;
}

function highlightBundle(): string {
  const core = require.resolve("highlight.js/lib/core");
  const python = require.resolve("highlight.js/lib/languages/python");
  return [
    "// highlight.js core and its Python grammar (node_modules/highlight.js/lib), wrapped for the browser by koderz view.",
    "(function () {",
    "  function load(factory) { var module = { exports: {} }; factory(module, module.exports); return module.exports; }",
    `  var hljs = ${commonJsModule(core)};`,
    `  hljs.registerLanguage("python", ${commonJsModule(python)});`,
    "  window.hljs = hljs;",
    "})();",
    "",
  ].join("\n");
}

function diffBundle(): string {
  return readFileSync(path.join(path.dirname(require.resolve("diff/package.json")), "dist", "diff.js"), "utf8");
}

const BUILDERS: Record<string, () => string> = {
  "/vendor/highlight.js": highlightBundle,
  "/vendor/diff.js": diffBundle,
};

const built = new Map<string, string>();

/** The script served at `pathname`, or undefined when no library lives there. */
export function vendorScript(pathname: string): string | undefined {
  if (!Object.hasOwn(BUILDERS, pathname)) return undefined;
  let text = built.get(pathname);
  if (text === undefined) {
    text = BUILDERS[pathname]!();
    built.set(pathname, text);
  }
  return text;
}
