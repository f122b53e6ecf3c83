import type { Command } from "commander";
import { MODES } from "../../policy/modes-and-agents.js";
import { DEFAULT_FRONTIER_MODEL, DEFAULT_LOCAL_MODEL } from "./benchmark-flags.js";
import { checkSolveInputs, MAX_TOOL_CALLS_LIMIT, type SolveInputFlags } from "./solve-flags.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerSolve(program: Command): void {
  program
    .command("solve")
    .argument("[issue-url]", "a GitHub issue, https://github.com/OWNER/REPO/issues/N (GITHUB_TOKEN for private repositories)")
    .option("--repo <path>", "a local git repository: with --issue, or a local clone for an issue URL or --swe-instance")
    .option("--issue <file>", "the issue as a text or Markdown file (with --repo)")
    .option("--swe-instance <file>", "a SWE-bench instance (JSON or JSONL)")
    .option("--instance-id <id>", "which instance, when the file holds several")
    .option("--commit <sha>", "the commit to work from (default: the default branch, or HEAD of --repo)")
    .option("--mode <mode>", `${[...MODES, "auto"].join(" | ")}`, "standard")
    .option("--policy <file>", "auto mode: the trained policy file")
    .option("--ladder <rungs>", "auto mode: rungs to climb while the tests fail, cheapest first: modes (fast,standard,deep) or AGENT=model,model,...")
    .option("--local-model <id>", "the model under test (Coder, Tester, Debugger)", DEFAULT_LOCAL_MODEL)
    .option("--frontier-model <id>", "the stronger model (Planner, Reviewer)", DEFAULT_FRONTIER_MODEL)
    .option("--model-for <agent=model>", "a model for one agent, e.g. Reviewer=kimi-k2 (repeatable)", collect)
    .option("--config <path>", "a koderz.config.json with extra models and prices")
    .option("--test-cmd <command>", "the repository's test command (default: detected: pytest, npm test, go test, cargo test)")
    .option("--test-timeout <s>", "time limit of one test run (the agents' run_tests; a runner koderz cannot split by file)", "300")
    .option("--test-file-timeout <s>", "time limit of each test file when the suite is run for the grade (a hung file is reported, not waited for)", "60")
    .option("--fail-to-pass <test>", "a test that fails now and must pass after the fix (repeatable)", collect)
    .option("--pass-to-pass <test>", "a test that passes now and must still pass (repeatable)", collect)
    .option("--image <name>", "the workspace image (default koderz-workspace)")
    .option("--build-image", "build the koderz-workspace image first, unless it is up to date (debootstrap; needs root)")
    .option("--network", "allow network access inside the workspace (off by default)")
    .option("--max-tool-calls <n>", `budget: tool calls by all agents (at most ${MAX_TOOL_CALLS_LIMIT})`, "100")
    .option("--max-tokens <n>", "budget: tokens")
    .option("--max-usd <dollars>", "budget: dollars")
    .option("--max-seconds <s>", "budget: wall time")
    .option("--debug-rounds <n>", "standard and deep: Debugger rounds while tests fail", "2")
    .option("--apply", "commit a solved patch on a new local branch of --repo (never pushed)")
    .option("--force", "with --apply: commit the patch even when it is not solved (unverified, or it breaks tests)")
    .option("--branch <name>", "the branch --apply creates (default koderz/<run id>)")
    .option("--cache", "reuse identical earlier model answers from any run")
    .option("--tags <list>", "extra tags, comma-separated")
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .option("--results-dir <dir>", "where the diff and the report go", "results")
    .option("--json", "print the report as JSON on stdout")
    .action(async (issueUrl: string | undefined, raw: SolveInputFlags) => {
      // How the flags combine first, then their values (zod), then the solve's modules: a usage
      // error or --help loads no engine.
      const source = checkSolveInputs(issueUrl, raw);
      const flags = (await import("./solve-options.js")).parseSolveFlags(raw);
      const { runSolveCommand } = await import("./solve-run.js");
      await runSolveCommand(issueUrl, source, flags);
    });
}
