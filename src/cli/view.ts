import { spawn } from "node:child_process";
import type { Command } from "commander";
import { z } from "zod";
import { parseOptions } from "./parse.js";
import { openStore } from "../store/index.js";
import { isLoopbackHost, startViewer } from "../report/viewer/server.js";

/**
 * `koderz view`: a local web viewer over the store (runs, a run's problems, a problem's
 * trajectory step by step). Serves until Ctrl-C; the URL goes to stderr.
 */
export function registerView(program: Command): void {
  program
    .command("view")
    .option("--port <port>", "port to listen on (0 picks a free one)", String(DEFAULT_PORT))
    .option("--host <host>", "address to listen on; the viewer has no login, so keep it local", "127.0.0.1")
    .option("--open", "open the viewer in the default browser")
    .option("--db <path>", "the store (default: $KODERZ_DB, else results/koderz.db)")
    .action(async (raw: unknown) => {
      const options = parseOptions(ViewOptions, raw);
      await serveUntilInterrupted(options);
    });
}

/** Inspect's `inspect view` uses 7575 too: one port to remember for eval log viewers. */
const DEFAULT_PORT = 7575;

const ViewOptions = z.object({
  port: z
    .string()
    .regex(/^\d+$/, "a port number, 0 to 65535")
    .transform(Number)
    .refine((port) => port <= 65535, "a port number, 0 to 65535"),
  host: z.string().min(1),
  open: z.boolean().default(false),
  db: z.string().min(1).optional(),
});

async function serveUntilInterrupted(options: z.infer<typeof ViewOptions>): Promise<void> {
  const store = openStore({ path: options.db, readOnly: true });
  try {
    const viewer = await startViewer({ store, host: options.host, port: options.port });
    if (!isLoopbackHost(options.host)) {
      process.stderr.write(`warning: listening on ${options.host}: anyone who can reach it can read every run in ${store.path}\n`);
    }
    process.stderr.write(`koderz view: ${viewer.url} (store ${store.path}; Ctrl-C to stop)\n`);
    if (options.open) openInBrowser(viewer.url);
    await interrupted();
    await viewer.close();
    process.stderr.write("koderz view: stopped\n");
  } finally {
    store.close();
  }
}

/** Resolves on the first Ctrl-C (or SIGTERM), and stops listening for both. */
export function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** Best effort: without a desktop opener the URL printed on stderr is enough. */
function openInBrowser(url: string): void {
  const [command, args]: [string, string[]] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = spawn(command, args, { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`koderz view: could not open a browser; open ${url} yourself\n`));
  child.unref();
}
