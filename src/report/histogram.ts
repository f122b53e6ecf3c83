/**
 * Shared bins for several series of values, so their histograms can stand side by side in one
 * grouped bar chart. chart.js has no histogram type: the report bins here and charts bars.
 */

export interface Histogram {
  /** One label per bin, its lower edge: "3", or "1,000" for the bin 1,000 to 1,999 when the width is 1,000. */
  labels: string[];
  /** Lower edge of each bin; a bin holds lower ≤ value < next lower (the last one includes the maximum). */
  lowerEdges: number[];
  width: number;
  /** counts[series][bin] */
  counts: number[][];
}

/** Up to this many distinct integers get one bin each (iterations: 1, 2, 3, ...). */
const MAX_UNIT_BINS = 25;
const TARGET_BINS = 12;

/** Bins for non-negative integer data (token counts, iterations) shared by every series. */
export function integerHistogram(series: readonly (readonly number[])[]): Histogram {
  const all = series.flat();
  if (all.length === 0) return { labels: [], lowerEdges: [], width: 1, counts: series.map(() => []) };
  const min = Math.min(...all);
  const max = Math.max(...all);
  const unitBins = max - min + 1 <= MAX_UNIT_BINS;
  const width = unitBins ? 1 : niceWidth((max - min) / TARGET_BINS);
  // Wide bins start at a multiple of the width so their edges read as round numbers.
  const start = unitBins ? min : Math.floor(min / width) * width;
  const bins = Math.floor((max - start) / width) + 1;
  const lowerEdges = Array.from({ length: bins }, (_, i) => start + i * width);
  const labels = lowerEdges.map(formatInteger);
  const counts = series.map((values) => {
    const row = new Array<number>(bins).fill(0);
    for (const value of values) row[Math.min(bins - 1, Math.floor((value - start) / width))]! += 1;
    return row;
  });
  return { labels, lowerEdges, width, counts };
}

/** The smallest of 1, 2, 2.5, 5 × a power of ten (at least 1) that is ≥ raw. */
function niceWidth(raw: number): number {
  if (raw <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10]) {
    const width = step * magnitude;
    if (width >= raw && Number.isInteger(width)) return width;
  }
  return 10 * magnitude;
}

function formatInteger(value: number): string {
  return value.toLocaleString("en-US");
}
