import { CHOSEN_MODE_TAG, tagValue } from "../src/store/index.js";
import { MODES, type Mode } from "./actions.js";

/** The experiment tag that records the mode the policy chose: auto runs' mode mix, in the store. */
export function chosenModeTag(mode: Mode): string {
  return `${CHOSEN_MODE_TAG}${mode}`;
}

/** The mode an auto experiment's chosen_mode tag names, if any. */
export function modeFromTags(tags: readonly string[]): Mode | undefined {
  const value = tagValue(tags, CHOSEN_MODE_TAG);
  return MODES.find((mode) => mode === value);
}
