/**
 * Tags an auto run writes on each experiment, and what reads them back (the escalation figures
 * here, training's replay, auto runs' mode mix): one spelling for writers and readers.
 */
export const CHOSEN_MODE_TAG = "chosen_mode:";
export const ESCALATIONS_TAG = "escalations:";

/** `escalations:N`: how many rungs the experiment climbed. */
export function escalationsTag(count: number): string {
  return `${ESCALATIONS_TAG}${count}`;
}

/** The value of the first tag with this prefix, if any. */
export function tagValue(tags: readonly string[], prefix: string): string | undefined {
  return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}
