/** Plain-text tables and number formats shared by the commands that print results. */

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

/** Percent values (0..100) with one decimal. */
export function formatPercent(percent: number): string {
  return `${percent.toFixed(1)}%`;
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

export function formatDollars(dollars: number): string {
  return `$${dollars.toFixed(4)}`;
}
