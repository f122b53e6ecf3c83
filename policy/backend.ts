import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { KoderzError } from "../src/errors.js";

/**
 * Which TensorFlow.js backend runs the policy network.
 *
 * - node-gpu / node: @tensorflow/tfjs-node(-gpu), optional and never a dependency: their
 *   install downloads native binaries (impossible offline) and the GPU build needs CUDA.
 *   They are loaded with a dynamic import when present; any failure is tolerated in auto.
 * - wasm: @tensorflow/tfjs-backend-wasm, works on a fresh machine: its .wasm files ship in
 *   the package's dist/ folder, which we point it at (in Node it would otherwise look
 *   next to the calling script and fail).
 * - cpu: plain JavaScript, always available.
 *
 * auto tries node-gpu, node, then the faster of wasm and cpu for this network's size.
 */
export { BACKEND_CHOICES, type BackendChoice } from "./backend-choices.js";
import type { BackendChoice } from "./backend-choices.js";
type ConcreteBackend = Exclude<BackendChoice, "auto">;

/**
 * Measured with `npm run bench:policy` on a 2-core machine, for this 2×64 tanh MLP at the
 * batch sizes training uses: wasm (SIMD, one thread) ran a 200-row forward pass in 0.8 ms
 * against 4.5 ms for the plain-JS cpu backend, and a 256-row gradient step in 8.8 ms
 * against 19 ms. So auto prefers wasm after the native backends. Re-measure if the
 * network changes size.
 */
export const FASTEST_PORTABLE_BACKEND: "wasm" | "cpu" = "wasm";

export interface ActiveBackend {
  /** What was asked for. */
  requested: BackendChoice;
  /** What runs. */
  backend: ConcreteBackend;
  /** The TensorFlow.js backend name (tensorflow, wasm, cpu). */
  tfName: string;
  /** One line for the log: what runs and why, including what auto skipped. */
  description: string;
}

let active: ActiveBackend | null = null;

/**
 * Selects the backend once per process (TensorFlow.js has one global backend). Asking
 * again for the same choice, or for auto, returns the active one; asking for a different
 * concrete backend switches.
 */
export async function useBackend(requested: BackendChoice = "auto"): Promise<ActiveBackend> {
  if (active && (requested === "auto" || requested === active.backend)) return active;
  tf.enableProdMode(); // no debug checks, and no console advice about tfjs-node
  if (requested !== "auto") {
    const failure = await tryBackend(requested);
    if (failure) {
      throw new KoderzError("usage", `--backend ${requested} is not usable here: ${failure}`, backendHint(requested));
    }
    return (active = { requested, backend: requested, tfName: tf.getBackend(), description: `${requested} (${tf.getBackend()})` });
  }
  const skipped: string[] = [];
  const order: ConcreteBackend[] = ["node-gpu", "node", FASTEST_PORTABLE_BACKEND, FASTEST_PORTABLE_BACKEND === "cpu" ? "wasm" : "cpu"];
  for (const candidate of order) {
    const failure = await tryBackend(candidate);
    if (!failure) {
      const why = skipped.length ? `; auto skipped ${skipped.join(", ")}` : "";
      return (active = { requested, backend: candidate, tfName: tf.getBackend(), description: `${candidate} (auto${why})` });
    }
    skipped.push(`${candidate}: ${failure}`);
  }
  throw new KoderzError("internal", `no TensorFlow.js backend could start: ${skipped.join("; ")}`);
}

export function activeBackend(): ActiveBackend | null {
  return active;
}

/** Returns null on success, or why the backend cannot run. */
async function tryBackend(backend: ConcreteBackend): Promise<string | null> {
  try {
    if (backend === "node" || backend === "node-gpu") return await tryNativeBackend(backend);
    if (backend === "wasm") setWasmPaths(wasmDirectory());
    const ok = await tf.setBackend(backend);
    await tf.ready();
    return ok ? null : `TensorFlow.js could not initialise the ${backend} backend`;
  } catch (error) {
    return error instanceof Error ? error.message.split("\n")[0]! : String(error);
  }
}

async function tryNativeBackend(backend: "node" | "node-gpu"): Promise<string | null> {
  const specifier = backend === "node" ? "@tensorflow/tfjs-node" : "@tensorflow/tfjs-node-gpu";
  try {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
    await import(specifier);
  } catch {
    return `${specifier} is not installed`;
  }
  // The native package registers "tensorflow" on its own copy of tfjs-core; it is usable
  // only when that copy is ours (same version, deduplicated by npm).
  if (!tf.findBackendFactory("tensorflow")) return `${specifier} is installed but registered no backend with this @tensorflow/tfjs (version mismatch?)`;
  const ok = await tf.setBackend("tensorflow");
  await tf.ready();
  return ok ? null : `${specifier} is installed but its native library failed to load`;
}

/** The folder holding tfjs-backend-wasm's .wasm binaries, with the trailing separator setWasmPaths needs. */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
}

function backendHint(backend: ConcreteBackend): string {
  if (backend === "node") return "install it with `npm install @tensorflow/tfjs-node` (downloads a native library), or use --backend auto";
  if (backend === "node-gpu") return "install `@tensorflow/tfjs-node-gpu` on a machine with CUDA 11 libraries, or use --backend auto";
  return "use --backend auto, or --backend cpu which always works";
}
