import { MODES, type Mode } from "./actions.js";

const PREFIX = "chosen_mode:";

/** The experiment tag that records the mode the policy chose: auto runs' mode mix, in the store. */
export function chosenModeTag(mode: Mode): string {
  return `${PREFIX}${mode}`;
}

/** The mode an auto experiment's chosen_mode tag names, if any. */
export function modeFromTags(tags: readonly string[]): Mode | undefined {
  const value = tags.find((tag) => tag.startsWith(PREFIX))?.slice(PREFIX.length);
  return MODES.find((mode) => mode === value);
}
