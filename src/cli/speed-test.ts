import type { Command } from "commander";

const DEFAULT_PROMPT = "Write a Python function that returns the n-th Fibonacci number, with a short docstring.";

/**
 * `koderz speed-test MODEL... [--prompt TEXT] [--runs N] [--json]`: its flags here; the model
 * clients (speed-test-action.ts) load once they are given.
 */
export function registerSpeedTestCommand(program: Command): void {
  program
    .command("speed-test")
    .argument("<models...>", "model ids, e.g. kimi-k2 ollama:qwen3-coder:30b llama:/models/coder.gguf")
    .option("--prompt <text>", "the prompt each run sends", DEFAULT_PROMPT)
    .option("--runs <n>", "calls per model; the table shows medians", "3")
    .option("--max-tokens <n>", "longest answer per call", "256")
    .option("--base-url <url>", "send to this OpenAI-compatible server (or Ollama host for ollama: ids)")
    .option("--config <path>", "model config file (default: ./koderz.config.json when present)")
    .option("--threads <list>", "llama: CPU threads to try, comma-separated (default: the cores this process may use)")
    .option("--context-size <list>", "llama: context sizes to try, comma-separated", "4096")
    .option("--batch-size <list>", "llama: batch sizes to try, comma-separated", "512")
    .option("--pp <n>", "llama: prompt tokens processed (pp512 as llama-bench)", "512")
    .option("--tg <n>", "llama: tokens generated (tg128 as llama-bench)", "128")
    .option("--json", "print the measurements as JSON on stdout")
    .action(async (models: string[], raw: unknown) => (await import("./speed-test-action.js")).speedTest(models, raw));
}
