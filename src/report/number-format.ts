/** How numbers are shown everywhere: the CLI tables, the report and the viewer. */

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
