import type { Command } from "commander";

/**
 * `koderz doctor MODEL... [--quick] [--json]`: checks each model the way a run will use it, in
 * seconds and for a few cents, before a run spends hours and dollars. Its flags here; the checks
 * (doctor-run.ts, doctor-checks.ts) load once they are given.
 */
export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .argument("<models...>", "model ids, e.g. kimi-k2 ollama:qwen3-coder:30b openai-compatible:qwen3@http://localhost:8000/v1")
    .option("--quick", "only what every run needs: reachable, served, chat, usage, code and the JSON verdicts")
    .option("--base-url <url>", "send to this OpenAI-compatible server (or Ollama host for ollama: ids)")
    .option("--config <path>", "model config file (default: ./koderz.config.json when present)")
    .option("--max-probe-usd <dollars>", "the most the context-length probe may cost per model", "0.05")
    .option("--json", "print the reports as JSON on stdout (docs/schemas/doctor.schema.json)")
    .addHelpText(
      "after",
      "\nExamples:\n  koderz doctor kimi-k2 ollama:qwen3-coder:30b\n  koderz doctor openai-compatible:qwen3-coder@http://localhost:8000/v1 --json\n\nExit status 1 when any check fails; warnings name the fallback koderz uses.",
    )
    .action(async (models: string[], raw: unknown) => (await import("./doctor-run.js")).doctorCommand(models, raw));
}
