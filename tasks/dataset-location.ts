import { access, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { KoderzError } from "../src/errors.js";
import { userCacheDir } from "./cache-dir.js";
import type { SuiteName } from "./task.js";

interface SuiteSource {
  label: string;
  /** Names looked for in KODERZ_DATA_DIR and the cache, best first; the first is the download's name. */
  fileNames: [string, ...string[]];
  url: string;
}

/**
 * Where each suite comes from. HumanEval+ uses EvalPlus's "OriginFmt" file: its `test` field is a
 * human-eval style check(candidate) function, so both suites share one verdict program.
 */
export const SUITE_SOURCES: Record<SuiteName, SuiteSource> = {
  humaneval: {
    label: "HumanEval",
    fileNames: ["HumanEval.jsonl.gz", "HumanEval.jsonl"],
    url: "https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz",
  },
  "humaneval+": {
    label: "HumanEval+",
    fileNames: ["HumanEvalPlus-OriginFmt.jsonl.gz", "HumanEvalPlus-OriginFmt.jsonl"],
    url: "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus-OriginFmt.jsonl.gz",
  },
};

/** Short, because a machine without internet should fail over to the clear not-found error quickly. */
const DOWNLOAD_TIMEOUT_MS = 5_000;

export interface LocateOptions {
  env?: NodeJS.ProcessEnv;
  /** Told about a download before it starts (the CLI prints it on stderr). */
  onNotice?: (message: string) => void;
}

/**
 * Finds the dataset file of a suite: KODERZ_DATA_DIR, then the user cache, then a download of the
 * upstream release into that cache (skipped when KODERZ_OFFLINE=1). An explicit file path is
 * handled by the caller and never falls back, so a typo is not silently replaced by another file.
 */
export async function locateSuiteFile(suite: SuiteName, options: LocateOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const source = SUITE_SOURCES[suite];
  const looked: string[] = ["--dataset PATH: not given"];

  const dataDir = env.KODERZ_DATA_DIR?.trim();
  if (dataDir) {
    const found = await firstExisting(dataDir, source.fileNames);
    if (found) return found;
    looked.push(`KODERZ_DATA_DIR=${dataDir}: no ${source.fileNames.join(" or ")} there`);
  } else {
    looked.push("KODERZ_DATA_DIR: not set");
  }

  const cacheDir = path.join(userCacheDir(env), "datasets");
  const cached = await firstExisting(cacheDir, source.fileNames);
  if (cached) return cached;
  looked.push(`user cache ${cacheDir}: no ${source.fileNames[0]} there`);

  if (env.KODERZ_OFFLINE === "1") {
    looked.push(`download from ${source.url}: skipped (KODERZ_OFFLINE=1)`);
  } else {
    const target = path.join(cacheDir, source.fileNames[0]);
    options.onNotice?.(`downloading ${source.label} from ${source.url} into ${cacheDir}`);
    const failure = await downloadTo(source.url, target);
    if (failure === undefined) return target;
    looked.push(`download from ${source.url}: ${failure}`);
  }

  throw new KoderzError(
    "not_found",
    `${source.label} dataset not found. Looked in:\n` + looked.map((place) => `  - ${place}`).join("\n"),
    `export KODERZ_DATA_DIR=/path/to/datasets (a folder holding ${source.fileNames[0]}), ` +
      `or pass --dataset /path/to/${source.fileNames[0]}, or download ${source.url} into ${cacheDir}`,
  );
}

/** Fails with a not_found error naming the path when an explicitly given dataset file is missing. */
export async function requireDatasetFile(file: string): Promise<string> {
  const resolved = path.resolve(file);
  if (await exists(resolved)) return resolved;
  throw new KoderzError(
    "not_found",
    `dataset file ${resolved} does not exist`,
    "pass --dataset humaneval, --dataset humaneval+ or the path of an existing .jsonl or .jsonl.gz file",
  );
}

async function firstExisting(dir: string, fileNames: string[]): Promise<string | undefined> {
  for (const name of fileNames) {
    const candidate = path.resolve(dir, name);
    if (await exists(candidate)) return candidate;
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Downloads into `target` atomically (temp file, then rename); returns why it failed, or undefined. */
async function downloadTo(url: string, target: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: "follow" });
    if (!response.ok) return `failed (HTTP ${response.status})`;
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return "failed (the response is not a gzip file)";
    await mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, target);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return `failed (${reason})`;
  }
}
