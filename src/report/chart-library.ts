import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * The chart.js UMD bundle, read from node_modules at run time so the report can inline it and
 * open with no network. chart.js exports no subpath for it, so it is found next to the
 * package's main entry (dist/chart.cjs); this works from src/ under vitest and from dist/.
 */
export function chartJsBundle(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve("chart.js");
  return readFileSync(path.join(path.dirname(main), "chart.umd.js"), "utf8");
}
