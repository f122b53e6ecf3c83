import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBackend } from "../src/llm/index.js";
import { parseGgufSource } from "../src/llm/gguf-cache.js";
import { downloadModelFile } from "../src/llm/hf-download.js";
import { disposeLlamaModels } from "../src/llm/llama-runtime.js";
import { tinyGgufBytes } from "./fixtures/tiny-gguf.js";
import { failureOf } from "./helpers/failure.js";

// A Hugging Face look-alike on 127.0.0.1: /resolve/ redirects to a "CDN" path, announcing the
// size and SHA-256 on the redirect as the real host does; the CDN honours Range. Each test picks
// how the host misbehaves. No test reaches the internet.
const model = tinyGgufBytes();
const sha256 = createHash("sha256").update(model).digest("hex");

interface Behaviour {
  /** Bytes after which the first full-body answer is cut (the connection closed). */
  cutAfter?: number;
  announcedSize?: number;
  announcedSha256?: string;
}
let behaviour: Behaviour = {};
let requests: { url: string; range?: string }[] = [];
let server: Server;
let endpoint: string;
let cache: string;

function serve(request: IncomingMessage, response: ServerResponse): void {
  requests.push({ url: request.url ?? "", ...(request.headers.range ? { range: request.headers.range } : {}) });
  if (request.url === "/tiny/model-GGUF/resolve/main/tiny.gguf") {
    response.writeHead(302, {
      location: "/cdn/blob",
      "x-linked-size": String(behaviour.announcedSize ?? model.length),
      "x-linked-etag": `"${behaviour.announcedSha256 ?? sha256}"`,
    });
    return void response.end();
  }
  if (request.url !== "/cdn/blob") return void response.writeHead(404).end("Entry not found");
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
  if (range) {
    const start = Number(range[1]);
    response.writeHead(206, { "content-length": model.length - start, "content-range": `bytes ${start}-${model.length - 1}/${model.length}` });
    return void response.end(model.subarray(start));
  }
  response.writeHead(200, { "content-length": model.length });
  if (behaviour.cutAfter !== undefined) {
    const cut = behaviour.cutAfter;
    behaviour = { ...behaviour, cutAfter: undefined };
    // Part of the body, a pause in which the client takes it in, then the connection drops.
    response.write(model.subarray(0, cut), () => setTimeout(() => response.destroy(), 300));
    return;
  }
  response.end(model);
}

beforeAll(async () => {
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await disposeLlamaModels();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  behaviour = {};
  requests = [];
  if (cache) rmSync(cache, { recursive: true, force: true });
});

function source() {
  cache = mkdtempSync(path.join(tmpdir(), "koderz-model-cache-"));
  const env = { HF_ENDPOINT: endpoint, KODERZ_CACHE_DIR: cache };
  const parsed = parseGgufSource("hf:tiny/model-GGUF/tiny.gguf", env);
  if (parsed.kind !== "hf") throw new Error("expected an hf source");
  return { parsed, env };
}

const download = (parsed: ReturnType<typeof source>["parsed"], onProgress?: (received: number, total?: number) => void) =>
  downloadModelFile({ url: parsed.url, destination: parsed.cachePath, label: "tiny/model-GGUF/tiny.gguf", onProgress: onProgress ?? (() => {}) });

describe("llama:hf: downloads", () => {
  it("downloads once into koderz's cache, reporting progress, and reads the cache afterwards", async () => {
    const { parsed } = source();
    expect(parsed.cachePath).toBe(path.join(cache, "models", "tiny", "model-GGUF", "tiny.gguf"));
    const progress: number[] = [];
    await download(parsed, (received) => progress.push(received));
    expect(readFileSync(parsed.cachePath).equals(model)).toBe(true);
    expect(progress.at(-1)).toBe(model.length);
    const before = requests.length;
    await download(parsed);
    expect(requests.length).toBe(before);
  });

  it("resumes a cut connection with a Range request and ends with the whole file", async () => {
    const { parsed } = source();
    behaviour = { cutAfter: 10_000 };
    await download(parsed);
    // The second request asks only for what was missing (what arrived before the cut, up to 10,000 bytes).
    const resumedAt = requests.flatMap((request) => (request.range && request.url === "/cdn/blob" ? [Number(/^bytes=(\d+)-$/.exec(request.range)?.[1])] : []));
    expect(resumedAt).toHaveLength(1);
    expect(resumedAt[0]).toBeGreaterThan(0);
    expect(resumedAt[0]).toBeLessThanOrEqual(10_000);
    expect(readFileSync(parsed.cachePath).equals(model)).toBe(true);
  });

  it("refuses a file whose size is not the announced one, and keeps nothing of it", async () => {
    const { parsed } = source();
    behaviour = { announcedSize: model.length + 100 };
    const error = await failureOf(download(parsed));
    expect(error.message).toContain(`has ${model.length} bytes, but the host announced ${model.length + 100}`);
    expect(existsSync(parsed.cachePath)).toBe(false);
    expect(existsSync(`${parsed.cachePath}.part`)).toBe(false);
  });

  it("refuses a file whose SHA-256 is not the announced one", async () => {
    const { parsed } = source();
    behaviour = { announcedSha256: "0".repeat(64) };
    const error = await failureOf(download(parsed));
    expect(error.message).toContain("SHA-256");
    expect(existsSync(parsed.cachePath)).toBe(false);
  });

  it("offline: one error naming the file, the cache path and how to place it by hand", async () => {
    cache = mkdtempSync(path.join(tmpdir(), "koderz-model-cache-"));
    // A port nothing listens on: the connection is refused, as with no network.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const parsed = parseGgufSource("hf:tiny/model-GGUF/tiny.gguf", { HF_ENDPOINT: `http://127.0.0.1:${port}`, KODERZ_CACHE_DIR: cache });
    if (parsed.kind !== "hf") throw new Error("expected an hf source");
    const error = await failureOf(download(parsed));
    expect(error.code).toBe("model_unavailable");
    expect(error.message).toContain("tiny/model-GGUF/tiny.gguf");
    expect(error.message).toContain(parsed.cachePath);
    expect(error.hint).toContain(`place it at ${parsed.cachePath}`);
  });

  it("a llama:hf: backend downloads in preflight, then answers from the cached file", async () => {
    const { env } = source();
    Object.assign(process.env, env);
    try {
      const backend = createBackend("llama:hf:tiny/model-GGUF/tiny.gguf", { threads: 1, contextSize: 1024 });
      await backend.preflight();
      expect(statSync(path.join(cache, "models", "tiny", "model-GGUF", "tiny.gguf")).size).toBe(model.length);
      const response = await backend.chat({ messages: [{ role: "user", content: "def" }], maxTokens: 4, temperature: 0 });
      expect(response.usage.output).toBeGreaterThan(0);
    } finally {
      delete process.env.HF_ENDPOINT;
      delete process.env.KODERZ_CACHE_DIR;
    }
  });
});
