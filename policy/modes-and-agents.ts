/**
 * The names the meta-controller decides between: the three modes and the five agents (whose
 * names agents/agent.ts owns). Their own module, so that the mode spec (mode-spec.ts) and the
 * action space (actions.ts) both import them without importing each other.
 */
export const MODES = ["fast", "standard", "deep"] as const;
export type Mode = (typeof MODES)[number];

export { AGENTS, type Agent } from "../agents/agent.js";
