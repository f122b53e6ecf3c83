import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { KoderzError } from "../../errors.js";
import { readPackageFile } from "../../package-file.js";
import type { Store } from "../../store/index.js";
import { vendorScript } from "./vendor-scripts.js";
import { answerApi } from "./viewer-api.js";

/**
 * The local web viewer: node:http serving one page, its script and stylesheet, and the JSON
 * API. The page loads no inline script, so its Content-Security-Policy can forbid every script
 * but its own (/app.js and the two libraries under /vendor/): model text that slipped into the
 * DOM as markup still could not run.
 */

export interface ViewerOptions {
  store: Store;
  /** 127.0.0.1 unless the user asks otherwise: the viewer has no authentication. */
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface RunningViewer {
  url: string;
  close(): Promise<void>;
}

const PAGE_SECURITY = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** The page's files, beside this module, read on first request. */
const STATIC: Record<string, { type: string; file: string }> = {
  "/": { type: "text/html; charset=utf-8", file: "./index.html" },
  "/app.js": { type: "text/javascript; charset=utf-8", file: "./app.js" },
  "/app.css": { type: "text/css; charset=utf-8", file: "./app.css" },
};

const LOOPBACK_NAMES = new Set(["localhost", "[::1]", "::1"]);

/**
 * Literal loopback only: "localhost", ::1, or an IPv4 address in 127.0.0.0/8. A DNS name that
 * merely starts with "127." (127.0.0.1.attacker.example) is a name an attacker controls, and a
 * page served from it could otherwise read the store after rebinding it to 127.0.0.1.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.has(name) || (isIP(name) === 4 && name.startsWith("127."));
}

export function startViewer(options: ViewerOptions): Promise<RunningViewer> {
  const server = createServer((request, response) => {
    try {
      handle(options, request, response);
    } catch (error) {
      send(response, 500, "application/json; charset=utf-8", JSON.stringify({ error: { code: "internal", message: String(error), hint: null } }));
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, options)));
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as AddressInfo;
      const hostInUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
      resolve({
        url: `http://${hostInUrl}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Browsers keep idle connections open; without this close() would wait for them.
            server.closeAllConnections();
          }),
      });
    });
  });
}

function handle(options: ViewerOptions, request: IncomingMessage, response: ServerResponse): void {
  if (!hostAllowed(request.headers.host, options.host)) {
    // A page on another site that rebinds its DNS name to 127.0.0.1 must not read the store.
    send(response, 403, "text/plain; charset=utf-8", "forbidden host\n");
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("Allow", "GET, HEAD");
    send(response, 405, "text/plain; charset=utf-8", "the viewer only reads\n");
    return;
  }
  const url = new URL(request.url ?? "/", "http://viewer.invalid");
  const page = STATIC[url.pathname];
  if (page) {
    send(response, 200, page.type, readPackageFile(import.meta.url, page.file), PAGE_SECURITY, request.method === "HEAD");
    return;
  }
  const library = vendorScript(url.pathname);
  if (library !== undefined) {
    send(response, 200, "text/javascript; charset=utf-8", library, {}, request.method === "HEAD");
    return;
  }
  const parts = url.pathname.split("/").slice(1);
  if (parts[0] === "api") {
    let segments: string[];
    try {
      segments = parts.slice(1).map((part) => decodeURIComponent(part));
    } catch {
      send(response, 400, "application/json; charset=utf-8", JSON.stringify({ error: { code: "bad_input", message: "malformed URL", hint: null } }));
      return;
    }
    const result = answerApi(options.store, segments, url.searchParams);
    send(response, result.status, "application/json; charset=utf-8", JSON.stringify(result.body), { "Cache-Control": "no-store" }, request.method === "HEAD");
    return;
  }
  send(response, 404, "text/plain; charset=utf-8", "not found\n");
}

/** With a loopback address only loopback names are accepted; a user who binds elsewhere chose to expose it. */
function hostAllowed(header: string | undefined, boundHost: string): boolean {
  if (!isLoopbackHost(boundHost)) return true;
  if (!header) return false;
  const name = header.startsWith("[") ? header.slice(0, header.indexOf("]") + 1) : header.split(":")[0]!;
  return isLoopbackHost(name) || name === boundHost;
}

function send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, headOnly = false): void {
  response.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), "X-Content-Type-Options": "nosniff", ...headers });
  response.end(headOnly ? undefined : body);
}

function listenError(error: NodeJS.ErrnoException, options: ViewerOptions): Error {
  if (error.code === "EADDRINUSE") {
    return new KoderzError("bad_input", `port ${options.port} on ${options.host} is already in use`, "pick another with --port, or --port 0 for any free port");
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return new KoderzError("bad_input", `cannot listen on ${options.host}`, "use --host 127.0.0.1 (the default) or an address of this machine");
  }
  if (error.code === "EACCES") {
    return new KoderzError("bad_input", `no permission to listen on port ${options.port}`, "use a port above 1023, or --port 0 for any free port");
  }
  return error;
}
