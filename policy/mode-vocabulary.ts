import type { Agent, Mode } from "./modes-and-agents.js";
import { MODE_SPECS, scriptAgents } from "./mode-spec.js";

/**
 * THE mode vocabulary: every name a user gives a way of solving (a benchmark --mode, a suite's
 * `solver.mode`, a stored run's arm) and what it means to each reader, in one table. The mode spec
 * (mode-spec.ts) says what fast, standard and deep run; this table says what every other name is
 * in their terms, so the benchmark's pipelines, its model checks, the agentic (repository) solver,
 * solve and the replay of stored arms never disagree.
 *
 * Not here: `comparative` (a benchmark that runs several of these side by side) and `auto` (the
 * policy picks one of fast, standard, deep per task; a stored auto experiment's mode is its
 * chosen_mode tag).
 */
export const MODE_NAMES = ["zero-shot", "iterative", "fast", "standard", "deep"] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export interface ModeMeaning {
  /** Function tasks: a mode spec script, or the iterative protocol (write, test, reflect, with frontier checkpoints). */
  functionPipeline: { kind: "script"; mode: Mode } | { kind: "iterative" };
  /** The agents it calls on function tasks: only their models need to answer before a run. */
  agents: readonly Agent[];
  /** Repositories (solve, agentic suite cases): the repository team it runs. */
  repositoryMode: Mode;
  /**
   * The rung a stored arm of this name is in a replay: only names that ARE one of the policy's
   * modes by construction; null when the protocol is another (map it with --arm-mode ARM=MODE).
   */
  replayArm: Mode | null;
}

const script = (mode: Mode): ModeMeaning => ({ functionPipeline: { kind: "script", mode }, agents: scriptAgents(MODE_SPECS.humaneval[mode]), repositoryMode: mode, replayArm: mode });

export const MODE_VOCABULARY: Readonly<Record<ModeName, ModeMeaning>> = {
  // The same single Coder call checked against the docstring's examples as fast (the zero-shot protocol).
  "zero-shot": script("fast"),
  // Its own protocol on function tasks; on a repository the nearest team is standard's. Not a replay rung by construction.
  iterative: { functionPipeline: { kind: "iterative" }, agents: ["Planner", "Coder", "Debugger", "Reviewer"], repositoryMode: "standard", replayArm: null },
  fast: script("fast"),
  standard: script("standard"),
  deep: script("deep"),
};

/** The stored arms a replay reads as rungs without --arm-mode. */
export const REPLAY_ARMS: Readonly<Record<string, Mode>> = Object.fromEntries(
  MODE_NAMES.flatMap((name) => {
    const arm = MODE_VOCABULARY[name].replayArm;
    return arm ? [[name, arm]] : [];
  }),
);
