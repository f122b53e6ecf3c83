import { request } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startViewer, type RunningViewer } from "../src/report/viewer/server.js";
import type { Store } from "../src/store/index.js";
import { buildReportStore } from "./fixtures/report-fixtures.js";
import { tempStore } from "./fixtures/store-fixtures.js";

let store: Store;
let cleanup: () => void;
let viewer: RunningViewer;

beforeEach(async () => {
  ({ store, cleanup } = tempStore());
  buildReportStore(store);
  viewer = await startViewer({ store, host: "127.0.0.1", port: 0 });
});
afterEach(async () => {
  await viewer.close();
  cleanup();
});

/** The status of GET /api/runs sent to the viewer's socket with this Host header (as a rebinding page's browser would send it). */
function statusFor(hostHeader: string): Promise<number> {
  const { port } = new URL(viewer.url);
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/api/runs", headers: { Host: hostHeader.replace("PORT", port) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("koderz view: Host header (DNS rebinding)", () => {
  it("refuses DNS names that only look like loopback addresses", async () => {
    for (const host of ["127.0.0.1.attacker.example:PORT", "127.evil.example:PORT", "127.0.0.1.nip.io", "localhost.attacker.example:PORT", "0127.0.0.1:PORT", "127.1:PORT"]) {
      expect([host, await statusFor(host)]).toEqual([host, 403]);
    }
  });

  it("serves literal loopback hosts: 127.0.0.0/8, localhost and [::1]", async () => {
    for (const host of ["127.0.0.1:PORT", "127.3.4.5:PORT", "localhost:PORT", "LOCALHOST:PORT", "[::1]:PORT", "127.0.0.1"]) {
      expect([host, await statusFor(host)]).toEqual([host, 200]);
    }
  });
});

/** The status of GET `target` sent as written (no URL normalisation on the way). */
function rawStatus(target: string): Promise<number> {
  const { port } = new URL(viewer.url);
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: target }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("koderz view: the libraries it serves from node_modules", () => {
  it("serves each at its one fixed address, and nothing else of node_modules or the disk", async () => {
    expect(await rawStatus("/vendor/highlight.js")).toBe(200);
    expect(await rawStatus("/vendor/diff.js")).toBe(200);
    for (const target of [
      "/vendor/",
      "/vendor",
      "/vendor/../package.json",
      "/vendor/%2e%2e/package.json",
      "/vendor/highlight.js/../../package.json",
      "/vendor/highlight.js%2F..%2F..%2Fpackage.json",
      "/vendor/diff.js?../../package.json".replace("?", "/"),
      "/vendor/constructor",
      "/vendor/__proto__",
      "/node_modules/diff/dist/diff.js",
      "/node_modules/highlight.js/lib/core.js",
      "/package.json",
      "/app.js/../../package.json",
    ]) {
      expect([target, await rawStatus(target)]).toEqual([target, 404]);
    }
  });
});
