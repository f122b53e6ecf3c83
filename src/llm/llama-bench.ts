import type { Token } from "node-llama-cpp";
import { defaultLlamaThreads, disposeLlamaModels, loadLlamaModel } from "./llama-runtime.js";

/**
 * llama-bench's two figures for a GGUF model in this process, per configuration: prompt
 * processing (ppN: N prompt tokens evaluated in batches) and text generation (tgN: N tokens
 * generated one at a time), plus the time to load the model and make its context.
 */
export interface LlamaBenchConfig {
  /** undefined: the cores this process may use (`defaultLlamaThreads`). */
  threads?: number;
  contextSize: number;
  batchSize: number;
}

export interface LlamaBenchResult extends LlamaBenchConfig {
  path: string;
  /** The threads llama.cpp actually used. */
  threadsUsed: number;
  loadMs: number;
  promptTokens: number;
  promptTokensPerSecond: number;
  generatedTokens: number;
  generationTokensPerSecond: number;
}

export interface LlamaBenchOptions {
  /** Prompt tokens for pp (default 512, as llama-bench's pp512). */
  promptTokens?: number;
  /** Generated tokens for tg (default 128, as tg128). */
  generateTokens?: number;
}

// Code-like text, so the prompt's tokens are the kind a coding prompt has.
const PROMPT_TEXT =
  "def has_close_elements(numbers: list[float], threshold: float) -> bool:\n" +
  '    """Check if in given list of numbers, are any two numbers closer to each other than given threshold."""\n' +
  "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in enumerate(numbers):\n" +
  "            if idx != idx2 and abs(elem - elem2) < threshold:\n                return True\n    return False\n";

/** Measures one configuration: a fresh load, one pp run, one tg run; the model is freed afterwards. */
export async function benchLlamaModel(path: string, config: LlamaBenchConfig, options: LlamaBenchOptions = {}): Promise<LlamaBenchResult> {
  const promptTokens = options.promptTokens ?? 512;
  const generateTokens = options.generateTokens ?? 128;
  // Each configuration loads anew, so its load time is its own.
  await disposeLlamaModels();
  const loaded = await loadLlamaModel(path, {
    sequences: 1,
    contextSize: Math.max(config.contextSize, promptTokens + generateTokens),
    batchSize: config.batchSize,
    threads: config.threads ?? defaultLlamaThreads(),
  });
  try {
    const sequence = await loaded.acquire();
    const prompt = promptOf(loaded.model.tokenize(PROMPT_TEXT), promptTokens);

    let started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const ppSeconds = (performance.now() - started) / 1000;

    await sequence.clearHistory();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, 16));
    let generated = 0;
    started = performance.now();
    // Greedy, and never stopped by an end token (as llama-bench): tg measures decoding N tokens,
    // whatever the model says. An end token is yielded and fed back like any other.
    for await (const token of sequence.evaluate([prompt[16]!], { temperature: 0, yieldEogToken: true })) {
      void token;
      if (++generated >= generateTokens) break;
    }
    const tgSeconds = (performance.now() - started) / 1000;
    loaded.release(sequence);
    return {
      path,
      ...config,
      threadsUsed: loaded.context.currentThreads,
      loadMs: loaded.loadMs,
      promptTokens: prompt.length,
      promptTokensPerSecond: prompt.length / ppSeconds,
      generatedTokens: generated,
      generationTokensPerSecond: generated / tgSeconds,
    };
  } finally {
    await disposeLlamaModels();
  }
}

/** The text's tokens repeated to exactly `count` tokens. */
function promptOf(tokens: Token[], count: number): Token[] {
  const prompt: Token[] = [];
  while (prompt.length < count) prompt.push(...tokens.slice(0, count - prompt.length));
  return prompt;
}
