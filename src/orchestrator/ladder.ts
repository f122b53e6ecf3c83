import { z } from "zod";
import { AGENTS, type Agent } from "../../agents/agent.js";
import { MODES, type Mode } from "../../policy/actions.js";
import { KoderzError } from "../errors.js";
import { resolveModel, type ModelConfig } from "../llm/index.js";

/**
 * The escalation ladder of `--mode auto --ladder ...`: rungs cheapest first, which the
 * meta-controller may climb with Escalate after any step (FrugalGPT / AutoMix cascades, with the
 * policy deciding on what a user could see). Either modes (`fast,standard,deep`: the next rung
 * runs a deeper mode's agents) or models for one agent (`Coder=ollama:qwen2.5-coder:7b,kimi-k2`:
 * the next rung's agent calls a stronger model). Work is kept across rungs (see episode.ts).
 */
export const LadderSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("modes"), modes: z.array(z.enum(MODES)).min(2) }),
  z.object({ kind: z.literal("models"), agent: z.enum(AGENTS), models: z.array(z.string().min(1)).min(2) }),
]);
export type Ladder = z.infer<typeof LadderSchema>;

const EXAMPLES = "e.g. --ladder fast,standard,deep or --ladder Coder=ollama:qwen2.5-coder:7b,ollama:qwen3-coder:30b,kimi-k2";

/** Parses `--ladder`; every way it can be wrong is one usage error that says what and how to fix it. */
export function parseLadder(value: string, config?: ModelConfig): Ladder {
  const refuse = (what: string, hint: string = EXAMPLES): never => {
    throw new KoderzError("usage", `--ladder "${value}": ${what}`, hint);
  };
  const text = value.trim();
  if (!text) refuse("the ladder is empty");
  const equals = text.indexOf("=");
  const rungs = (list: string): string[] => list.split(",").map((rung) => rung.trim());
  const checkRungs = (names: string[]): void => {
    const empty = names.findIndex((name) => name === "");
    if (empty >= 0) refuse(`rung ${empty + 1} is empty (two commas, or a comma at an end)`);
    if (names.length < 2) refuse("a ladder needs at least two rungs, cheapest first");
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated) refuse(`"${repeated}" is on the ladder twice`);
  };

  if (equals < 0) {
    const modes = rungs(text);
    checkRungs(modes);
    const unknown = modes.find((mode) => !(MODES as readonly string[]).includes(mode));
    if (unknown) refuse(`"${unknown}" is not a mode`, `a ladder of modes uses ${MODES.join(", ")}, cheapest first; ${EXAMPLES}`);
    return { kind: "modes", modes: modes as Mode[] };
  }

  const rawAgent = text.slice(0, equals).trim();
  const agent = AGENTS.find((a) => a.toLowerCase() === rawAgent.toLowerCase());
  if (!agent) refuse(`"${rawAgent}" is not an agent`, `a ladder of models names one agent of ${AGENTS.join(", ")}; ${EXAMPLES}`);
  const models = rungs(text.slice(equals + 1));
  checkRungs(models);
  for (const [index, model] of models.entries()) {
    try {
      resolveModel(model, { config });
    } catch (error) {
      const hint = error instanceof KoderzError && error.hint ? error.hint : EXAMPLES;
      refuse(`rung ${index + 1}, model "${model}": ${error instanceof Error ? error.message : String(error)}`, hint);
    }
  }
  return { kind: "models", agent: agent!, models };
}

export function rungCount(ladder: Ladder): number {
  return ladder.kind === "modes" ? ladder.modes.length : ladder.models.length;
}

/** How a ladder reads in a log line: `fast > deep` or `Coder: a > b`. */
export function describeLadder(ladder: Ladder): string {
  return ladder.kind === "modes" ? ladder.modes.join(" > ") : `${ladder.agent}: ${ladder.models.join(" > ")}`;
}

/** The modes an episode may start in: a ladder of modes' rungs (the policy picks one), else every mode. */
export function startModes(ladder: Ladder | undefined): readonly Mode[] {
  return ladder?.kind === "modes" ? ladder.modes : MODES;
}

/** The rung an episode starting in `mode` is on: that mode's rung on a ladder of modes, else the first. */
export function startRung(ladder: Ladder | undefined, mode: Mode): number {
  if (ladder?.kind !== "modes") return 0;
  const rung = ladder.modes.indexOf(mode);
  if (rung < 0) throw new Error(`${mode} is not on the ladder ${describeLadder(ladder)}`);
  return rung;
}

/** The mode on a rung: a ladder of modes names it; a ladder of models keeps the episode's mode. */
export function modeOnRung(ladder: Ladder, rung: number, mode: Mode): Mode {
  return ladder.kind === "modes" ? ladder.modes[rung]! : mode;
}

/** The agents' models on a rung: a ladder of models gives its agent the rung's model; the others keep theirs. */
export function modelsOnRung<Backend>(ladder: Ladder | undefined, rung: number, models: Record<Agent, Backend>, backend: (model: string) => Backend): Record<Agent, Backend> {
  if (ladder?.kind !== "models") return models;
  return { ...models, [ladder.agent]: backend(ladder.models[rung]!) };
}

/** The models a ladder names (each must answer before a run starts). */
export function ladderModels(ladder: Ladder | undefined): string[] {
  return ladder?.kind === "models" ? ladder.models : [];
}

/** How one rung reads in a log line: `deep` or `Coder=kimi-k2`. */
export function describeRung(ladder: Ladder, rung: number): string {
  return ladder.kind === "modes" ? ladder.modes[rung]! : `${ladder.agent}=${ladder.models[rung]!}`;
}
