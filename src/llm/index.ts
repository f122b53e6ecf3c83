/**
 * What the rest of koderz uses from src/llm. Provider clients (openai, ollama) stay behind
 * this line: nothing exported here mentions their types.
 */
export type * from "./types.js";
export { configRedirects, presetEndpoint, createBackend, resolveModel, MODEL_ID_FORMS, type CreateBackendOptions, type ModelSpec, type ProviderKind } from "./registry.js";
export { refusedKeyEntries } from "./config-trust.js";
export { loadModelConfig, parseModelConfig, CONFIG_FILE_NAME, type ModelConfig, type ModelEntry } from "./model-config.js";
export { preflightAll } from "./preflight-all.js";
export { withCallLog, requestHash, canonicalJson, type CallLogMode } from "./recording.js";
export { costUsd, type TokenPrices } from "./cost.js";
export { measureSpeed, type SpeedReport, type SpeedRun, type SpeedTestOptions } from "./speed-measure.js";
export type { RetryEvent, RetryPolicy } from "./resilience.js";
export { chooseDefaultModels, EMBEDDED_DEFAULT_MODEL, type DefaultModelChoice } from "./default-model.js";
export { benchLlamaModel, type LlamaBenchConfig, type LlamaBenchResult } from "./llama-bench.js";
export { localGgufFile } from "./llama.js";
export { defaultLlamaThreads, disposeLlamaModels } from "./llama-runtime.js";
export { responseForTheRecord, answerNotes } from "./response-record.js";
export { splitReasoning, readTextToolCalls, estimateTokens } from "./answer-quirks.js";
export { contextLimitIn } from "./call-failure.js";
export { claimedContextLength } from "./context-claim.js";
