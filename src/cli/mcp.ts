import type { Command } from "commander";

/**
 * `koderz mcp`: the store, read-only, to assistants over the Model Context Protocol. Over
 * stdio (the default) stdout carries the protocol alone, so every message of ours goes to
 * stderr; with --http PORT it serves streamable HTTP on 127.0.0.1 until Ctrl-C.
 */
export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .option("--http <port>", "serve streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio (0 picks a free port)")
    .action(async (raw: unknown) => {
      // Loaded once commander has the flags: an unknown one loads no zod, SDK or store.
      await (await import("./mcp-serve.js")).serveMcp(raw, program.version() ?? "unknown");
    });
}
