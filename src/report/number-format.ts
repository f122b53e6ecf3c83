/**
 * How the report and the viewer show numbers: the same formats as the CLI tables
 * (src/cli/table.ts), kept here because src/report must not depend on src/cli.
 */

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
