import { z } from "zod";
import { CHOSEN_MODE_TAG, ESCALATIONS_TAG, tagValue } from "./experiment-tags.js";
import type { ExperimentRecord, RunRecord } from "./records.js";

/**
 * How far up its --ladder each problem of an auto run (or a solve) climbed, read back from what
 * the store holds: the ladder in the run's config, and on each experiment the tags the
 * orchestrator writes, `chosen_mode:MODE` (where the policy started) and `escalations:N` (rungs
 * climbed). Built from the stored records, never from a session's memory, so a resumed run's
 * figures cover every session. The tags are spelled once, in experiment-tags.ts, for the
 * orchestrator that writes them and every reader.
 */

const count = z.number().int().nonnegative();

export const RungFiguresSchema = z.strictObject({
  /** 1 is the cheapest rung. */
  rung: z.number().int().positive(),
  /** The rung's mode (a ladder of modes) or AGENT=model (a ladder of models). */
  name: z.string(),
  /** Problems the policy started on this rung. */
  started: count,
  /** Problems that were on this rung at some point (started here or climbed to it). */
  reached: count,
  /** Problems that climbed from this rung to the next. */
  escalated: count,
  /** Problems solved on this rung (the last they were on). */
  solved: count,
  /** Problems that ended on this rung unsolved. */
  failed: count,
});

export const EscalationFiguresSchema = z.strictObject({
  /** The ladder, cheapest first, e.g. "fast > deep" or "Coder: ollama:qwen3-coder:30b > kimi-k2". */
  ladder: z.string(),
  rungs: z.array(RungFiguresSchema),
  /** Rungs climbed over the whole run. */
  escalations: count,
  /** Problems whose records do not say where they started or how far they climbed (left out of the rungs). */
  unrecorded: count,
});

export type RungFigures = z.infer<typeof RungFiguresSchema>;
export type EscalationFigures = z.infer<typeof EscalationFiguresSchema>;

/** The ladder as a run's config stores it (older runs named a ladder of models' agent `role`). */
const StoredLadder = z.union([
  z.object({ kind: z.literal("modes"), modes: z.array(z.string()).min(2) }),
  z.object({ kind: z.literal("models"), agent: z.string(), models: z.array(z.string()).min(2) }),
  z.object({ kind: z.literal("models"), role: z.string(), models: z.array(z.string()).min(2) }).transform(({ role, ...rest }) => ({ ...rest, agent: role })),
]);

/** The run's escalations per rung; null when the run has no ladder. */
export function escalationFigures(run: Pick<RunRecord, "config">, experiments: readonly ExperimentRecord[]): EscalationFigures | null {
  const parsed = StoredLadder.safeParse(run.config.ladder);
  if (!parsed.success) return null;
  const ladder = parsed.data;
  const names = ladder.kind === "modes" ? ladder.modes : ladder.models.map((model) => `${ladder.agent}=${model}`);
  const rungs: RungFigures[] = names.map((name, index) => ({ rung: index + 1, name, started: 0, reached: 0, escalated: 0, solved: 0, failed: 0 }));
  let escalations = 0;
  let unrecorded = 0;
  for (const experiment of experiments) {
    const climbed = tagNumber(experiment.tags, ESCALATIONS_TAG);
    // A ladder of modes starts where the policy chose; a ladder of models always on its first rung.
    const start = ladder.kind === "modes" ? ladder.modes.indexOf(tagValue(experiment.tags, CHOSEN_MODE_TAG) ?? "") : 0;
    if (climbed === undefined || start < 0 || start + climbed >= rungs.length) {
      unrecorded += 1;
      continue;
    }
    const end = start + climbed;
    escalations += climbed;
    rungs[start]!.started += 1;
    for (let rung = start; rung <= end; rung++) rungs[rung]!.reached += 1;
    for (let rung = start; rung < end; rung++) rungs[rung]!.escalated += 1;
    if (experiment.success) rungs[end]!.solved += 1;
    else rungs[end]!.failed += 1;
  }
  const described = ladder.kind === "modes" ? ladder.modes.join(" > ") : `${ladder.agent}: ${ladder.models.join(" > ")}`;
  return { ladder: described, rungs, escalations, unrecorded };
}

function tagNumber(tags: readonly string[], prefix: string): number | undefined {
  const value = tagValue(tags, prefix);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
