import type { Command } from "commander";

interface CommandEntry {
  name: string;
  /** Shown in `koderz --help` and `koderz NAME --help`; the one place it is written. */
  description: string;
  /** The command's own file, imported only when that command runs (or shows its help). */
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every command lives in its own file; this table names them. Only the command being run is
 * imported, so `koderz --help` or a usage error does not pay for tfjs, dockerode or
 * node-llama-cpp.
 */
const COMMANDS: CommandEntry[] = [
  {
    name: "benchmark",
    description: "run agents on problems [START, END) and record success, tokens and cost under a run id",
    load: async () => (await import("./benchmark.js")).registerBenchmark,
  },
  {
    name: "run",
    description: "run one problem with a readable trace of every agent step",
    load: async () => (await import("./run.js")).registerRun,
  },
  {
    name: "evaluate",
    description: "evaluate a samples file ({task_id, completion} per line) like the reference HumanEval harness, and print pass@k",
    load: async () => (await import("./evaluate.js")).registerEvaluate,
  },
  {
    name: "audit",
    description: "run generic cheats (constant answers, echoes, exits, shadowed builtins, ...) against every case of a suite and print the cases they pass",
    load: async () => (await import("./audit.js")).registerAudit,
  },
  {
    name: "results",
    description: "list, show, export, tag and stage the runs in the store",
    load: async () => (await import("./results.js")).registerResults,
  },
  {
    name: "compare",
    description: "compare runs problem by problem against a baseline (the first run, or the one with stage baseline)",
    load: async () => (await import("./compare.js")).registerCompare,
  },
  {
    name: "report",
    description: "write one self-contained HTML report of runs: charts, a per-problem matrix and train-meta curves",
    load: async () => (await import("./report.js")).registerReport,
  },
  {
    name: "view",
    description: "browse runs, problems and step-by-step trajectories in a local web viewer",
    load: async () => (await import("./view.js")).registerView,
  },
  {
    name: "train-meta",
    description: "train the meta-controller policy (mode and next agent) and compare it with fixed modes, random and the oracle",
    load: async () => (await import("./train-meta.js")).registerTrainMetaCommand,
  },
  {
    name: "solve",
    description: "resolve an issue in a repository with tool-using agents in a Docker workspace; writes the patch to results/",
    load: async () => (await import("./solve.js")).registerSolve,
  },
  {
    name: "doctor",
    description: "check models before a run: reachable, served, answers, token counts, code, JSON verdicts, tool calls, context, streaming",
    load: async () => (await import("./doctor.js")).registerDoctorCommand,
  },
  {
    name: "speed-test",
    description: "measure models' speed: time to first token, latency and tokens per second (streaming); llama: models: pp/tg tokens/s and load time per configuration",
    load: async () => (await import("./speed-test.js")).registerSpeedTestCommand,
  },
  {
    name: "sandbox",
    description: "the sandbox that runs untrusted code: build its image, check what is available",
    load: async () => (await import("./sandbox.js")).registerSandboxCommand,
  },
  {
    name: "worker",
    description: "take queued benchmark problems (koderz benchmark --queue) and run them on this machine",
    load: async () => (await import("./worker.js")).registerWorker,
  },
  {
    name: "mcp",
    description: "serve the store read-only to MCP clients (Claude Code, Claude Desktop, ...) over stdio, or --http on 127.0.0.1",
    load: async () => (await import("./mcp.js")).registerMcp,
  },
];

/**
 * Registers the command named on the command line (fully, with its options), or, when none
 * is named, every command by name and description for the help listing.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  // `koderz help NAME` asks for NAME's help as `koderz NAME --help` does.
  const name = argv[2] === "help" ? argv[3] : argv[2];
  const named = COMMANDS.find((entry) => entry.name === name);
  for (const entry of named ? [named] : COMMANDS) {
    if (entry === named) (await entry.load())(program);
    else program.command(entry.name);
    program.commands.find((command) => command.name() === entry.name)?.description(entry.description);
  }
}
