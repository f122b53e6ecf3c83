/**
 * The names the meta-controller decides between: the three modes and the five agents. Their own
 * module, so that the mode spec (mode-spec.ts) and the action space (actions.ts) both import
 * them without importing each other.
 */
export const MODES = ["fast", "standard", "deep"] as const;
export type Mode = (typeof MODES)[number];

export const AGENTS = ["Planner", "Coder", "Tester", "Debugger", "Reviewer"] as const;
export type Agent = (typeof AGENTS)[number];
