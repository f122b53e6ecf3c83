import type { Command } from "commander";
import { isSweInstancesFile } from "../../tasks/swe-instances-file.js";
import { KoderzError } from "../errors.js";
import { isPostgresUrl } from "../store/postgres-url.js";
import { DEFAULT_SETTINGS } from "../orchestrator/modes.js";

/**
 * The flags of `benchmark` and of the commands that share them (`run`, `train-meta --env live`),
 * and the checks of how they combine. Light on purpose: an unknown flag, a conflict or --help
 * loads nothing else, not even zod (~100 files), which checks their values (benchmark-options.ts).
 */
export const DEFAULT_LOCAL_MODEL = "ollama:qwen3-coder:30b";
export const DEFAULT_FRONTIER_MODEL = "kimi-k2";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options `benchmark` and `run` share: models, settings, budgets, sandbox, policy and store. */
export function addAgentOptions(command: Command): Command {
  command.option("--dataset <dataset>", "humaneval, humaneval+ or a dataset file", "humaneval");
  return addModelOptions(command)
    .option("--max-iterations <n>", "iterative: code versions at most", String(DEFAULT_SETTINGS.maxIterations))
    .option("--checkpoint-every <n>", "iterative: a frontier checkpoint every n iterations", String(DEFAULT_SETTINGS.checkpointEvery))
    .option("--cache", "reuse identical earlier model answers from any run")
    .option("--policy <file>", "auto mode: the trained policy file (koderz train-meta --out FILE)")
    .option("--learn", "auto mode: keep training the policy online, one update per task, saved after each")
    .option("--policy-out <file>", "--learn: where the updated policy is saved (default: the --policy file itself)")
    .option("--ladder <rungs>", "auto mode: rungs the policy may escalate to, cheapest first: modes (fast,standard,deep) or ROLE=model,model,...")
    .option("--stage <label>", "a stage label for compare (baseline, finetuned, ...)")
    .option("--tags <list>", "extra tags, comma-separated")
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .option("--results-dir <dir>", "where the summary JSON goes", "results")
    .option("--json", "print the summary JSON on stdout");
}

/** Models, agent settings, budgets and sandbox (see ModelOptions). */
export function addModelOptions(command: Command): Command {
  return command
    // No commander defaults here: withDefaultModels must see what the user left out.
    .option("--local-model <id>", `the model under test (Coder, Tester, Debugger) (default: "${DEFAULT_LOCAL_MODEL}")`)
    .option("--frontier-model <id>", `the stronger model (Planner, Reviewer, checkpoints) (default: "${DEFAULT_FRONTIER_MODEL}")`)
    .option("--model-for <agent=model>", "a model for one agent, e.g. Tester=openai:gpt-4o-mini (repeatable)", collect)
    .option("--config <path>", "a koderz.config.json with extra models and prices")
    .option("--trajectories <k>", "deep: parallel Coder trajectories (8 is heavy)", String(DEFAULT_SETTINGS.trajectories))
    .option("--debug-rounds <n>", "standard and deep: Debugger rounds", String(DEFAULT_SETTINGS.debugRounds))
    .option("--max-steps <n>", "budget per problem: agent calls")
    .option("--max-tokens <n>", "budget per problem: tokens")
    .option("--max-usd <dollars>", "budget per problem: dollars")
    .option("--max-seconds <s>", "budget per problem: wall time")
    .option("--sandbox <name>", "docker or process (default: docker when an engine answers)")
    .option("--threads <n>", "llama: models: CPU threads (default: $KODERZ_LLAMA_THREADS, else the cores this process may use)");
}

export type ModelsGivenRaw = { localModel?: string; frontierModel?: string; config?: string; resume?: string; replay?: string };

/** What the checks below read: the flags as commander gives them (absent when not given) or as parsed. */
export interface FlagsToCheck {
  mode: string;
  learn?: boolean;
  ladder?: string;
  policyOut?: string;
  suite?: string;
  repos?: string;
  imageFor?: readonly string[];
  resume?: string;
  replay?: string;
  queue?: string;
  db?: string;
}

/** --learn and --policy-out only make sense for an auto run that learns. */
export function checkPolicyFlags(flags: FlagsToCheck): void {
  if (flags.learn && flags.mode !== "auto") {
    throw new KoderzError("usage", "--learn trains the policy that --mode auto decides with", "add --mode auto --policy FILE, or drop --learn");
  }
  checkLadderFlag(flags);
  if (flags.policyOut && !flags.learn) {
    throw new KoderzError("usage", "--policy-out says where --learn saves the updated policy", "add --learn, or drop --policy-out");
  }
}

/** --ladder only makes sense with --mode auto (benchmark and solve). */
export function checkLadderFlag(flags: { ladder?: string; mode: string }): void {
  if (flags.ladder !== undefined && flags.mode !== "auto") {
    throw new KoderzError("usage", "--ladder is the ladder --mode auto's policy escalates on", "add --mode auto --policy FILE, or drop --ladder");
  }
}

export function parseRange(start: string | undefined, end: string | undefined): [number, number] {
  // Decimal digits only: Number() would also take "0x0", "1e2" or " 7 ".
  const digits = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : Number.NaN);
  const s = digits(start);
  const e = digits(end);
  if (!Number.isInteger(s) || !Number.isInteger(e) || e <= s) {
    throw new KoderzError("usage", `START and END must be whole numbers with 0 <= START < END (got ${start ?? "nothing"} and ${end ?? "nothing"})`, "e.g. `koderz benchmark 0 164 --mode comparative`, or --resume RUN_ID");
  }
  return [s, e];
}

/** Combinations of `benchmark` flags that cannot work: usage errors before the run's modules load. */
export function checkRunFlags(flags: FlagsToCheck): void {
  checkPolicyFlags(flags);
  checkRepoSuiteFlags(flags);
  if (flags.resume && flags.replay) throw new KoderzError("usage", "--resume and --replay cannot be combined", "resume a stopped run, or replay a recorded one");
  if (flags.suite !== undefined && (flags.resume || flags.replay)) {
    throw new KoderzError("usage", "--suite starts a new run; --resume and --replay use the suite the run was started with", "drop --suite");
  }
  if (flags.suite !== undefined && flags.repos === undefined && isSweInstancesFile(flags.suite)) {
    throw new KoderzError("usage", `${flags.suite} holds SWE-bench instances, which are solved in clones of their repositories`, "add --repos DIR: a folder holding a clone of each repository, named OWNER__NAME (e.g. DIR/astropy__astropy)");
  }
  if (flags.queue !== undefined) {
    checkQueueUrl(flags.queue);
    if (flags.db && flags.db !== flags.queue) throw new KoderzError("usage", "with --queue, the store is the queue's database", "drop --db, or give it the same URL as --queue");
  }
}

/** --queue of `benchmark` and of `worker`: the shared PostgreSQL database. */
export function checkQueueUrl(url: string): void {
  if (!isPostgresUrl(url)) throw new KoderzError("usage", `--queue takes a postgres:// URL (got ${url})`, "e.g. --queue postgres://user:password@db-host:5432/koderz");
}

/** --repos only with an instances file, and --image-for only with --repos. */
export function checkRepoSuiteFlags(flags: Pick<FlagsToCheck, "repos" | "suite" | "imageFor">): void {
  const imageFor = flags.imageFor ?? [];
  if (imageFor.length && flags.repos === undefined) {
    throw new KoderzError("usage", "--image-for names a repository's workspace image for a SWE-bench instances suite", "add --suite INSTANCES.jsonl --repos DIR, or drop --image-for");
  }
  parseImageFor(imageFor);
  if (flags.repos === undefined) return;
  if (flags.suite === undefined) {
    throw new KoderzError("usage", "--repos DIR is the folder of clones for a SWE-bench instances suite", "add --suite INSTANCES.jsonl to start a run (a resumed run uses the folder it was started with), or drop --repos");
  }
  // A built-in suite's name or a YAML file is a suite of cases; any other file is read as instances.
  const builtInOrYaml = (!/[\\/]/.test(flags.suite) && !/\.jsonl?(\.gz)?$/i.test(flags.suite)) || /\.ya?ml$/i.test(flags.suite);
  if (builtInOrYaml) {
    throw new KoderzError("usage", `--repos DIR is for a suite of SWE-bench instances (a .jsonl or .json file); ${flags.suite} is a suite of cases`, "drop --repos, or pass --suite INSTANCES.jsonl");
  }
}

/** --image-for OWNER/NAME=IMAGE (repeatable): each repository's workspace image, by repository. */
export function parseImageFor(values: readonly string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const value of values) {
    const match = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)=(\S+)$/.exec(value);
    if (!match) throw new KoderzError("usage", `--image-for ${value} is not OWNER/NAME=IMAGE`, "e.g. --image-for astropy/astropy=swe-env-astropy:5.1");
    if (images[match[1]!] !== undefined) throw new KoderzError("usage", `--image-for names ${match[1]} twice`, "give each repository one image");
    images[match[1]!] = match[2]!;
  }
  return images;
}
