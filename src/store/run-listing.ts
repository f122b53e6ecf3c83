import type { ArmTotals } from "./engine.js";
import type { RunRecord } from "./records.js";

/** One run as `koderz results list --json` and the MCP server show it: its totals per arm and overall. */
export interface RunListing {
  run_id: string;
  kind: string;
  mode: string;
  stage: string | null;
  status: string;
  start_time: string;
  end_time: string | null;
  tags: string[];
  problems: number;
  arms: { arm: string; experiments: number; successes: number; success_rate: number; input_tokens: number; output_tokens: number; cost: number }[];
  input_tokens: number;
  output_tokens: number;
  cost: number;
}

export function runListing(run: RunRecord, arms: ArmTotals[]): RunListing {
  return {
    run_id: run.runId,
    kind: run.kind,
    mode: run.mode,
    stage: run.stage ?? null,
    status: run.status,
    start_time: run.startTime,
    end_time: run.endTime ?? null,
    tags: run.tags,
    // Arms of one run cover the same problems; the largest arm is the run's problem count.
    problems: Math.max(0, ...arms.map((a) => a.experiments)),
    arms: arms.map((a) => ({
      arm: a.arm,
      experiments: a.experiments,
      successes: a.successes,
      success_rate: a.experiments === 0 ? 0 : (a.successes / a.experiments) * 100,
      input_tokens: a.inputTokens,
      output_tokens: a.outputTokens,
      cost: a.costUsd,
    })),
    input_tokens: arms.reduce((total, a) => total + a.inputTokens, 0),
    output_tokens: arms.reduce((total, a) => total + a.outputTokens, 0),
    cost: arms.reduce((total, a) => total + a.costUsd, 0),
  };
}
