import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open as openFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import cliProgress from "cli-progress";
import { KoderzError } from "../errors.js";
import { describeNetworkError } from "./call-failure.js";

/**
 * Downloads one model file into the cache, once. The bytes go to `<file>.part` first and are
 * renamed into place only after the size (and the SHA-256, when the host gives one) checked out,
 * so a file at the final path is always whole. A cut connection resumes with an HTTP Range
 * request, in this call and in the next one.
 *
 * Hugging Face answers `/resolve/` with a redirect to its CDN whose own headers carry no size or
 * checksum; the redirect carries them as X-Linked-Size and X-Linked-Etag (the LFS object's
 * SHA-256), so the first hop is read by hand.
 */
export interface DownloadRequest {
  url: string;
  destination: string;
  /** What the user called it, for messages: e.g. "Qwen/…-GGUF/model.gguf". */
  label: string;
  /** Reads of the body that may break and be resumed, in all. Default 5. */
  maxAttempts?: number;
  /** Told as bytes arrive; default: a progress bar on stderr. */
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

interface Announced {
  size?: number;
  sha256?: string;
}

/** Returns the destination path, downloading the file first when it is not there yet. */
export async function downloadModelFile(request: DownloadRequest): Promise<string> {
  if (await fileSize(request.destination) !== undefined) return request.destination;
  await mkdir(path.dirname(request.destination), { recursive: true });
  const partial = `${request.destination}.part`;
  const progress = request.onProgress ? { update: request.onProgress, stop: () => {} } : stderrBar(request.label);
  const maxAttempts = request.maxAttempts ?? 5;
  let announced: Announced = {};
  try {
    for (let attempt = 1; ; attempt++) {
      const offset = (await fileSize(partial)) ?? 0;
      const response = await open(request, offset);
      announced = { ...announced, ...response.announced };
      const start = startOf(response.response, offset);
      if (start === 0 && offset > 0) await rm(partial, { force: true });
      const total = announced.size ?? totalOf(response.response, start);
      let received = start;
      progress.update(received, total);
      // Each chunk is on disk before the next is read, so what arrived before a cut is kept for the resume.
      const file = await openFile(partial, start === 0 ? "w" : "a");
      try {
        for await (const chunk of response.response.body as AsyncIterable<Uint8Array>) {
          await file.write(chunk);
          progress.update((received += chunk.length), total);
        }
      } catch (error) {
        if (request.signal?.aborted) throw error;
        if (attempt >= maxAttempts) {
          throw new KoderzError(
            "model_unavailable",
            `the download of ${request.label} broke off ${maxAttempts} times (${describeNetworkError(error)}); ${received} bytes are kept in ${partial}`,
            "run the same command again to resume it",
          );
        }
        continue; // resume from what arrived
      } finally {
        await file.close();
      }
      const size = (await fileSize(partial)) ?? 0;
      if (total !== undefined && size < total && attempt < maxAttempts) continue; // the host closed early: resume
      await verify(partial, size, announced, total, request);
      await rename(partial, request.destination);
      return request.destination;
    }
  } finally {
    progress.stop();
  }
}

async function open(request: DownloadRequest, offset: number): Promise<{ response: Response; announced: Announced }> {
  const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
  let url = request.url;
  let announced: Announced = {};
  for (let hop = 0; hop < 5; hop++) {
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: "manual", ...(request.signal ? { signal: request.signal } : {}) });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw offline(request, describeNetworkError(error));
    }
    announced = { ...announced, ...announcedBy(response.headers) };
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      url = new URL(location, url).toString();
      continue;
    }
    if (response.status === 416 && offset > 0) {
      // The partial file is no prefix of this file (it changed on the host): start over.
      await rm(`${request.destination}.part`, { force: true });
      return open(request, 0);
    }
    if (!response.ok) {
      throw new KoderzError(
        response.status === 404 || response.status === 401 || response.status === 403 ? "not_found" : "model_unavailable",
        `cannot download ${request.label}: HTTP ${response.status} from ${url}`,
        response.status === 401 || response.status === 403
          ? "the repository may be gated or private: download the file by hand and use llama:/path/to/file.gguf"
          : "check the owner, repository and file name (they are case-sensitive)",
      );
    }
    return { response, announced };
  }
  throw new KoderzError("model_unavailable", `cannot download ${request.label}: too many redirects from ${request.url}`);
}

function offline(request: DownloadRequest, reason: string): KoderzError {
  return new KoderzError(
    "model_unavailable",
    `cannot download ${request.label} from ${request.url} (${reason}); koderz looks for it at ${request.destination}`,
    `connect this machine to the internet and run again, or download the file elsewhere and place it at ${request.destination} ` +
      `(e.g. curl -L -o '${request.destination}' '${request.url}'), or give a file you have: --local-model llama:/path/to/model.gguf`,
  );
}

function announcedBy(headers: Headers): Announced {
  const announced: Announced = {};
  const size = Number(headers.get("x-linked-size") ?? Number.NaN);
  if (Number.isSafeInteger(size) && size >= 0) announced.size = size;
  // An LFS file's ETag is its SHA-256; a small file's is a git blob hash, which is not.
  const etag = (headers.get("x-linked-etag") ?? headers.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "");
  if (/^[0-9a-f]{64}$/i.test(etag)) announced.sha256 = etag.toLowerCase();
  return announced;
}

/** Where this response's body starts in the file: the Range we asked for, or 0 when the host sent it whole. */
function startOf(response: Response, offset: number): number {
  if (response.status !== 206) return 0;
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return match && Number(match[1]) === offset ? offset : 0;
}

function totalOf(response: Response, start: number): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
  if (range) return Number(range[1]);
  const length = Number(response.headers.get("content-length") ?? Number.NaN);
  return Number.isSafeInteger(length) ? start + length : undefined;
}

async function verify(partial: string, size: number, announced: Announced, total: number | undefined, request: DownloadRequest): Promise<void> {
  const expected = announced.size ?? total;
  if (expected !== undefined && size !== expected) {
    await rm(partial, { force: true });
    throw new KoderzError(
      "model_unavailable",
      `the download of ${request.label} has ${size} bytes, but the host announced ${expected}; the file was removed`,
      `run again to download it afresh, or place a good copy at ${request.destination} by hand`,
    );
  }
  if (announced.sha256) {
    const hash = createHash("sha256");
    await pipeline(createReadStream(partial), hash);
    const actual = hash.digest("hex");
    if (actual !== announced.sha256) {
      await rm(partial, { force: true });
      throw new KoderzError(
        "model_unavailable",
        `the download of ${request.label} has SHA-256 ${actual}, but the host announced ${announced.sha256}; the file was removed`,
        `run again to download it afresh, or place a good copy at ${request.destination} by hand`,
      );
    }
  }
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

function stderrBar(label: string): { update: (received: number, total: number | undefined) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `downloading ${label} [{bar}] {percentage}% | {value}/{total} MB`, hideCursor: false, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(received, total) {
      const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
      if (!started) {
        bar.start(total === undefined ? 0 : mb(total), mb(received));
        started = true;
      } else bar.update(mb(received));
      if (total !== undefined) bar.setTotal(mb(total));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
