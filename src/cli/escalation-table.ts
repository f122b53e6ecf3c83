import type { EscalationFigures } from "../store/index.js";
import { renderTable } from "./table.js";

/**
 * The escalations of a laddered run, rung by rung, as `results show` and a benchmark's end print
 * them: how many problems started on each rung, reached it, climbed from it to the next, and
 * were solved or left unsolved there. Empty for a run without a ladder.
 */
export function renderEscalations(figures: EscalationFigures | null): string {
  if (!figures) return "";
  const rows = figures.rungs.map((rung) => [String(rung.rung), rung.name, String(rung.started), String(rung.reached), String(rung.escalated), String(rung.solved), String(rung.failed)]);
  const unrecorded = figures.unrecorded ? `\n${figures.unrecorded} problem${figures.unrecorded === 1 ? "" : "s"} without a record of their rungs (left out)` : "";
  return (
    `\nescalations per rung (ladder ${figures.ladder}; ${figures.escalations} escalation${figures.escalations === 1 ? "" : "s"} in all)\n` +
    renderTable(["rung", "", "started", "reached", "escalated up", "solved here", "unsolved here"], rows, ["right", "left", "right", "right", "right", "right", "right"]) +
    unrecorded +
    (unrecorded ? "\n" : "")
  );
}
