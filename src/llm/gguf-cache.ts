import path from "node:path";
import envPaths from "env-paths";
import { KoderzError } from "../errors.js";

/**
 * Where a `llama:` model id's GGUF file is: a path on disk (`llama:/models/x.gguf`), or a file of
 * a Hugging Face repository (`llama:hf:OWNER/REPO/FILE.gguf`) that koderz downloads once into
 * its cache and reads from there afterwards.
 */
export type GgufSource =
  | { kind: "file"; path: string }
  | { kind: "hf"; owner: string; repo: string; file: string; url: string; cachePath: string };

type Env = Record<string, string | undefined>;

export const HF_PREFIX = "hf:";
const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

/** koderz's model cache: KODERZ_CACHE_DIR (as for datasets) or the user cache dir, then models/. */
export function modelCacheDir(env: Env = process.env): string {
  const root = env.KODERZ_CACHE_DIR?.trim() || envPaths("koderz", { suffix: "" }).cache;
  return path.join(root, "models");
}

/**
 * Parses what follows `llama:`. HF_ENDPOINT (Hugging Face's own variable, for mirrors) moves the
 * host; the revision is always `main`.
 */
export function parseGgufSource(reference: string, env: Env = process.env): GgufSource {
  if (!reference.startsWith(HF_PREFIX)) {
    if (!reference.toLowerCase().endsWith(".gguf")) {
      throw new KoderzError(
        "usage",
        `llama:${reference} does not name a .gguf file`,
        "write llama:/path/to/model.gguf or llama:hf:OWNER/REPO/FILE.gguf",
      );
    }
    return { kind: "file", path: path.resolve(reference) };
  }
  const parts = reference.slice(HF_PREFIX.length).split("/");
  const [owner, repo, ...fileParts] = parts;
  const file = fileParts.join("/");
  const safe = (part: string | undefined) => !!part && part !== "." && part !== ".." && !/[\\\s]/.test(part);
  if (!safe(owner) || !safe(repo) || !fileParts.every(safe) || !file.toLowerCase().endsWith(".gguf")) {
    throw new KoderzError(
      "usage",
      `llama:${reference} is not of the form llama:hf:OWNER/REPO/FILE.gguf`,
      "e.g. llama:hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    );
  }
  const endpoint = (env.HF_ENDPOINT?.trim() || DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
  return {
    kind: "hf",
    owner: owner!,
    repo: repo!,
    file,
    url: `${endpoint}/${owner}/${repo}/resolve/main/${fileParts.map(encodeURIComponent).join("/")}`,
    cachePath: path.join(modelCacheDir(env), owner!, repo!, ...fileParts),
  };
}
