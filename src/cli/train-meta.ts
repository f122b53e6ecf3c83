import path from "node:path";
import type { Command } from "commander";
import { KoderzError } from "../errors.js";
import { BACKEND_CHOICES } from "../../policy/backend-choices.js";
import { DEFAULT_COST_PER_USD, DEFAULT_REWARD_CONFIG } from "../../training/rewards.js";
import { addModelOptions } from "./benchmark-flags.js";
import { parseOptions } from "./parse.js";


/**
 * `koderz train-meta`: trains the meta-controller (mode + next agent) by PPO on synthetic,
 * replayed or live episodes, writes the policy file, checkpoints and a metrics JSONL, and
 * prints a table against always-fast / standard / deep, random and the oracle on held-out
 * episodes (live: a summary of its own episodes, see liveOutcome).
 */
export function registerTrainMetaCommand(program: Command): void {
  const command = program
    .command("train-meta")
    .option("--episodes <n>", "training episodes", "10000")
    .option("--env <env>", "synthetic (simulator), replay (stored runs, needs --runs) or live (real models and sandbox)", "synthetic")
    .option("--runs <ids>", "replay: comma-separated run ids whose experiments to replay")
    .option("--eval-runs <ids>", "replay: evaluate on these runs' ladder (another ladder of the same tasks) instead of the held-out tasks of --runs; tasks trained on are never evaluated on")
    .option("--db <path>", "replay: the store (default: $KODERZ_DB, else results/koderz.db)")
    .option("--dataset <dataset>", "replay and live: where the tasks come from (humaneval, humaneval+ or a .jsonl path)", "humaneval")
    .option("--arm-mode <ARM=MODE>", "replay: treat a run arm as a mode, e.g. iterative=standard (repeatable)", collect, [])
    .option("--held-out <fraction>", "replay: fraction of tasks held out for the comparison", "0.2")
    .option("--problems <start:end>", "live: the problems [START, END) episodes cycle through (default: all)")
    .option("--concurrency <n>", "live: episodes played at once, which is also the episodes per policy update", "2")
    .option("--policy <file>", "start from this policy file (e.g. one trained on synthetic) instead of a fresh network")
    .option("--out <file>", "the policy file to write", path.join("results", "policy.json"))
    .option("--backend <backend>", `tensor backend: ${BACKEND_CHOICES.join(", ")}`, "auto")
    .option("--seed <n>", "seed of tasks, network and sampling", "1")
    .option("--metrics <file>", "metrics JSONL (default: next to --out, <name>.metrics.jsonl)")
    .option("--lambda <value>", "cost penalty per 1000 tokens, where no price is known (synthetic; replays without logged dollars)", String(DEFAULT_REWARD_CONFIG.lambdaPer1000Tokens))
    .option("--cost-weight <value>", "replay and live: cost penalty, reward lost per US dollar spent", String(DEFAULT_COST_PER_USD))
    .option("--seeds <n>", "replay: seeds pooled in the held-out table, each its own split by task and its own cross-validated choice between the learned policy and the rules", "5")
    .option("--curve <weights>", "replay: also the quality-cost curve, one training per cost weight, e.g. 0,1,3,10,30")
    .option("--success-floor <share>", "replay: keep at least this share of the dearest arm's success (e.g. 0.95) at the lower end of its interval, and pay as little as possible: the threshold and the controller (learned or a rule) are chosen for it on the training tasks and saved in the policy file")
    .option("--checkpoint-every <episodes>", "write <out>.ep<N>.json every N episodes (0: only the final file)", "2000")
    .option("--eval-episodes <n>", "synthetic: held-out episodes for the comparison", "2000")
    .option("--json", "print the comparison as JSON instead of a table");
  // live: the same model, budget and sandbox flags as `koderz benchmark`.
  addModelOptions(command).action(async (raw: unknown) => {
    // Loaded after commander's checks: an unknown flag loads no zod.
    const options = parseOptions((await import("./train-meta-flags.js")).TrainMetaOptions, raw);
    if (options.evalRuns && options.env !== "replay") {
      throw new KoderzError("usage", "--eval-runs is for --env replay", "add --env replay --runs ID,... (the ladder to train on) and --eval-runs ID,... (the ladder to evaluate on)");
    }
    if (options.successFloor !== undefined && options.env !== "replay") {
      throw new KoderzError("usage", "--success-floor is for --env replay", "it chooses the escalation threshold on the logged runs' training tasks: add --env replay --runs ID,...");
    }
    // Loaded once the flags are checked: a usage error or --help does not load TensorFlow.js.
    const { runTrainMeta } = await import("./train-meta-run.js");
    await runTrainMeta(options);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
