import { SCRIPT_DEFAULTS } from "../../policy/mode-spec.js";

/**
 * The benchmark's modes and default agent settings: plain data, so that the CLI can check its
 * flags (and answer --help) without loading the agents, models or sandbox.
 */
export const BENCHMARK_MODES = ["zero-shot", "iterative", "comparative", "fast", "standard", "deep"] as const;
export type BenchmarkMode = (typeof BENCHMARK_MODES)[number];

export interface PipelineSettings {
  /** iterative: the most code versions written (first attempt included). */
  maxIterations: number;
  /** iterative: a frontier-model checkpoint after every this many iterations. */
  checkpointEvery: number;
  /** deep: parallel Coder trajectories (8 is the "heavy" setting). */
  trajectories: number;
  /** standard and deep: Debugger rounds while tests fail. */
  debugRounds: number;
}

/** debugRounds and trajectories default as the mode spec declares them. */
export const DEFAULT_SETTINGS: PipelineSettings = { maxIterations: 5, checkpointEvery: 3, ...SCRIPT_DEFAULTS };
