/**
 * npm run bench:llama — load time and tokens/s of the in-process llama: backend (node-llama-cpp),
 * per thread count: pp512 (prompt tokens per second, evaluated in batches) and tg128 (generated
 * tokens per second), as llama-bench reports them. Prints figures; asserts nothing.
 *   tiny    the tests' random-weight GGUF (~40 KB): the runtime's own overhead, not a model's speed
 *   KODERZ_BENCH_GGUF=/path/model.gguf   also a real model (e.g. Qwen2.5-Coder-1.5B Q4_K_M)
 * Each row's speed is also given as a ratio to the 1-thread row of the same model in the same run,
 * since absolute figures move with whatever else the machine runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { benchLlamaModel, type LlamaBenchResult } from "../src/llm/llama-bench.js";
import { writeTinyGguf } from "../tests/fixtures/tiny-gguf.js";

const say = (line = ""): void => void process.stdout.write(line + "\n");
const dir = mkdtempSync(path.join(tmpdir(), "koderz-bench-llama-"));
const models: [string, string][] = [["tiny (random weights)", writeTinyGguf(path.join(dir, "tiny.gguf"))]];
if (process.env.KODERZ_BENCH_GGUF) models.push([path.basename(process.env.KODERZ_BENCH_GGUF), path.resolve(process.env.KODERZ_BENCH_GGUF)]);
const threadCounts = [...new Set([1, availableParallelism()])];

say(`koderz bench:llama — node-llama-cpp in process, context 2048, batch 512, pp512 / tg128`);
say(`load average ${loadavg().map((load) => load.toFixed(1)).join(" ")} on ${availableParallelism()} cores`);
say(`${"model".padEnd(28)} ${"threads".padStart(7)} ${"load".padStart(9)} ${"pp512 t/s".padStart(10)} ${"tg128 t/s".padStart(10)} ${"tg vs 1 thread".padStart(15)}`);
try {
  for (const [name, file] of models) {
    let baseline: LlamaBenchResult | undefined;
    for (const threads of threadCounts) {
      const result = await benchLlamaModel(file, { threads, contextSize: 2048, batchSize: 512 });
      baseline ??= result;
      say(
        `${name.padEnd(28)} ${String(result.threadsUsed).padStart(7)} ${`${Math.round(result.loadMs)} ms`.padStart(9)} ` +
          `${result.promptTokensPerSecond.toFixed(1).padStart(10)} ${result.generationTokensPerSecond.toFixed(1).padStart(10)} ` +
          `${`${(result.generationTokensPerSecond / baseline.generationTokensPerSecond).toFixed(2)}x`.padStart(15)}`,
      );
    }
  }
  if (!process.env.KODERZ_BENCH_GGUF) say("(set KODERZ_BENCH_GGUF=/path/model.gguf to measure a real model too)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
