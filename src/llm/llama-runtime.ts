import { freemem } from "node:os";
import type { GgufInsights, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { KoderzError } from "../errors.js";

/**
 * node-llama-cpp's native side, loaded models and their contexts, shared by every llama:
 * backend in this process: a model is in memory once however many agents or concurrent calls
 * use it, and each call borrows one context sequence of it.
 */
export interface LlamaSettings {
  /** CPU threads for evaluation; undefined lets llama.cpp use every core. */
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

/** The native bindings, loaded once; prebuilt binaries only (never a build or a download at run time). */
export function sharedLlama(): Promise<Llama> {
  llama ??= nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) => getLlama({ build: "never", logLevel: LlamaLogLevel.error, progressLogs: false }));
  return llama;
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
  try {
    model = await runtime.loadModel({ modelPath: path, gpuLayers: runtime.gpu === false ? 0 : "auto" });
  } catch (error) {
    throw new KoderzError(
      "model_unavailable",
      `node-llama-cpp could not load ${path}: ${error instanceof Error ? error.message : String(error)}`,
      "check that the file is a complete GGUF model of an architecture llama.cpp supports",
    );
  }
  const context = await model.createContext({
    sequences: settings.sequences,
    contextSize,
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
  });
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
