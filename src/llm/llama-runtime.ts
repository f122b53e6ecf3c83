import { availableParallelism, freemem } from "node:os";
import type { GgufInsights, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { KoderzError } from "../errors.js";

/**
 * node-llama-cpp's native side, loaded models and their contexts, shared by every llama:
 * backend in this process: a model is in memory once however many agents or concurrent calls
 * use it, and each call borrows one context sequence of it.
 */
export interface LlamaSettings {
  /** CPU threads for evaluation; undefined: the cores this process may use (`defaultLlamaThreads`). */
  threads?: number;
  /** Tokens each sequence holds; default min(the model's training context, 8192). */
  contextSize?: number;
  /** Tokens evaluated per batch (prompt processing); default 512. */
  batchSize?: number;
  /** Sequences, i.e. calls that can run at once. */
  sequences: number;
}

export interface LoadedLlamaModel {
  model: LlamaModel;
  context: LlamaContext;
  /** Milliseconds from reading the file to a ready context. */
  loadMs: number;
  /** Borrows a free sequence, waiting when all are busy; give it back with `release`. */
  acquire(): Promise<LlamaContextSequence>;
  release(sequence: LlamaContextSequence): void;
}

const DEFAULT_CONTEXT_SIZE = 8192;

/** node-llama-cpp itself, imported on first use: it takes seconds to import, which no other command should pay. */
export const nodeLlamaCpp = () => import("node-llama-cpp");

let llama: Promise<Llama> | undefined;

/**
 * The threads a model evaluates on when none are asked for: the cores this process may use
 * (Node reads the scheduler's affinity mask, so `taskset -c 0` or a container's cpuset gives 1).
 * node-llama-cpp's own default is at least 4, which on a 2-core machine makes threads wait on
 * each other and generation crawl.
 */
export function defaultLlamaThreads(): number {
  return Math.max(1, availableParallelism());
}

/**
 * llama.cpp's own log lines (warnings and errors), kept instead of printed: a failure's reason is
 * often only there ("tensor ... data is not within the file bounds"), so it is folded into
 * koderz's one error (`withNativeReason`) rather than printed beside it.
 */
const NATIVE_LOG_LINES = 20;
const nativeLog: Array<{ seq: number; text: string }> = [];
let nativeSeq = 0;

function keepNativeLine(message: string): void {
  for (const line of message.split("\n")) {
    const text = line.trim();
    if (!text) continue;
    nativeLog.push({ seq: ++nativeSeq, text: text.length > 300 ? `${text.slice(0, 300)}…` : text });
    if (nativeLog.length > NATIVE_LOG_LINES) nativeLog.shift();
  }
}

/** A mark to read the native lines logged after it. */
export function nativeLogMark(): number {
  return nativeSeq;
}

/** The native bindings, loaded once; prebuilt binaries only (never a build or a download at run time). */
export function sharedLlama(): Promise<Llama> {
  llama ??= nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      build: "never",
      logLevel: LlamaLogLevel.warn,
      progressLogs: false,
      logger: (level, message) => {
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal || level === LlamaLogLevel.warn) keepNativeLine(message);
      },
    }),
  );
  return llama;
}

/**
 * A native failure's message with the native lines logged since `mark` that give its reason.
 * llama.cpp's lines reach JavaScript through the event loop, sometimes after the failure itself:
 * one short turn of the loop lets them in first.
 */
export async function withNativeReason(message: string, mark: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  const lines = nativeLog.filter((line) => line.seq > mark).map((line) => line.text);
  return lines.length ? `${message} (llama.cpp: ${lines.join("; ")})` : message;
}

const loaded = new Map<string, Promise<LoadedLlamaModel>>();

/** The model at `path` with these settings, loaded on first use and shared afterwards. */
export function loadLlamaModel(path: string, settings: LlamaSettings): Promise<LoadedLlamaModel> {
  const key = JSON.stringify([path, settings.threads, settings.contextSize, settings.batchSize, settings.sequences]);
  let entry = loaded.get(key);
  if (!entry) {
    entry = load(path, settings);
    // A failed load is not cached: the user may free memory or fix the file and try again.
    entry.catch(() => loaded.delete(key));
    loaded.set(key, entry);
  }
  return entry;
}

/** Frees every loaded model (tests, benchmarks, and the end of a command). */
export async function disposeLlamaModels(): Promise<void> {
  const entries = [...loaded.values()];
  loaded.clear();
  for (const entry of entries) {
    const model = await entry.catch(() => undefined);
    await model?.context.dispose();
    await model?.model.dispose();
  }
}

async function load(path: string, settings: LlamaSettings): Promise<LoadedLlamaModel> {
  const runtime = await sharedLlama();
  // Timed after the native bindings are up: they load once per process, not once per model.
  const started = performance.now();
  const contextSize = await checkMemory(runtime, path, settings);
  let model: LlamaModel;
  const mark = nativeLogMark();
  try {
    model = await runtime.loadModel({ modelPath: path, gpuLayers: runtime.gpu === false ? 0 : "auto" });
  } catch (error) {
    throw new KoderzError(
      "model_unavailable",
      await withNativeReason(`node-llama-cpp could not load ${path}: ${error instanceof Error ? error.message : String(error)}`, mark),
      "check that the file is a complete GGUF model of an architecture llama.cpp supports (a download that broke off is shorter than its header says)",
    );
  }
  let context: LlamaContext;
  try {
    context = await model.createContext({
      sequences: settings.sequences,
      contextSize,
      threads: settings.threads ?? defaultLlamaThreads(),
      ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    });
  } catch (error) {
    await model.dispose();
    throw new KoderzError(
      "model_unavailable",
      await withNativeReason(`node-llama-cpp could not make a context of ${contextSize} tokens for ${path}: ${error instanceof Error ? error.message : String(error)}`, mark),
      "try a smaller --context-size or --concurrency",
    );
  }
  const free: LlamaContextSequence[] = [];
  for (let i = 0; i < settings.sequences; i++) free.push(context.getSequence());
  const waiting: ((sequence: LlamaContextSequence) => void)[] = [];
  return {
    model,
    context,
    loadMs: performance.now() - started,
    acquire: () => {
      const sequence = free.pop();
      return sequence ? Promise.resolve(sequence) : new Promise((resolve) => waiting.push(resolve));
    },
    release: (sequence) => {
      const next = waiting.shift();
      if (next) next(sequence);
      else free.push(sequence);
    },
  };
}

/**
 * Refuses, before loading, a model whose weights and context need more memory than is free:
 * llama.cpp would otherwise be killed by the kernel, or page for hours. Returns the context size.
 */
async function checkMemory(runtime: Llama, path: string, settings: LlamaSettings): Promise<number> {
  const { GgufInsights, readGgufFileInfo } = await nodeLlamaCpp();
  let insights: GgufInsights;
  try {
    insights = await GgufInsights.from(await readGgufFileInfo(path), runtime);
  } catch (error) {
    throw new KoderzError(
      "bad_input",
      `${path} is not a readable GGUF file: ${error instanceof Error ? error.message : String(error)}`,
      "check the path; a download that broke off leaves a .part file, not a .gguf one",
    );
  }
  const trainContext = insights.trainContextSize ?? DEFAULT_CONTEXT_SIZE;
  const contextSize = settings.contextSize ?? Math.min(trainContext, DEFAULT_CONTEXT_SIZE);
  // The computed estimates, not the V2 ones: those measure by loading the model, which is what must not happen yet.
  const weights = insights.estimateModelResourceRequirements({ gpuLayers: 0 }).cpuRam;
  const context = insights.estimateContextResourceRequirements({
    contextSize,
    modelGpuLayers: 0,
    sequences: settings.sequences,
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
  }).cpuRam;
  const available = freemem();
  if (weights + context > available) {
    const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;
    throw new KoderzError(
      "model_unavailable",
      `${path} needs about ${gb(weights + context)} of memory (weights ${gb(weights)}, context of ${contextSize} tokens × ${settings.sequences} ${gb(context)}), but only ${gb(available)} is free`,
      "pick a smaller model or quantisation (e.g. Q4_K_M), a smaller --context-size or --concurrency, or free memory",
    );
  }
  return contextSize;
}
