import type { PipelineSettings } from "./pipeline.js";

/**
 * The benchmark's modes and default agent settings: plain data, so that the CLI can check its
 * flags (and answer --help) without loading the agents, models or sandbox.
 */
export const BENCHMARK_MODES = ["zero-shot", "iterative", "comparative", "fast", "standard", "deep"] as const;
export type BenchmarkMode = (typeof BENCHMARK_MODES)[number];

export const DEFAULT_SETTINGS: PipelineSettings = { maxIterations: 5, checkpointEvery: 3, trajectories: 4, debugRounds: 2 };
