import type { Command } from "commander";

/** Inspect's `inspect view` uses 7575 too: one port to remember for eval log viewers. */
const DEFAULT_PORT = 7575;

/**
 * `koderz view`: a local web viewer over the store (runs, a run's problems, a problem's
 * trajectory step by step). Its flags here; the store and the server (view-serve.ts) load once
 * they parse, so a usage error answers at once.
 */
export function registerView(program: Command): void {
  program
    .command("view")
    .option("--port <port>", "port to listen on (0 picks a free one)", String(DEFAULT_PORT))
    .option("--host <host>", "address to listen on; the viewer has no login, so keep it local", "127.0.0.1")
    .option("--open", "open the viewer in the default browser")
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .action(async (raw: unknown) => (await import("./view-serve.js")).serveView(raw));
}
