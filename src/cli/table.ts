/** Plain-text tables for the commands that print results; numbers are formatted as in the report. */

export { formatCount, formatDollars, formatPercent } from "../report/number-format.js";

/** A plain-text table with two spaces between columns; right-aligned columns are for numbers. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly ("left" | "right")[] = []): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (align[column] === "right" ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}
