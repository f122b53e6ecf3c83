import { spawn } from "node:child_process";
import { z } from "zod";
import { interrupted } from "./interrupt.js";
import { parseOptions } from "./parse.js";
import { openStore } from "../store/index.js";
import { isLoopbackHost, startViewer } from "../report/viewer/server.js";

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

/** `koderz view`, once its flags are parsed: serves until Ctrl-C; the URL goes to stderr. */
export async function serveView(raw: unknown): Promise<void> {
  const options = parseOptions(ViewOptions, raw);
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

/** Best effort: without a desktop opener the URL printed on stderr is enough. */
function openInBrowser(url: string): void {
  const [command, args]: [string, string[]] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = spawn(command, args, { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`koderz view: could not open a browser; open ${url} yourself\n`));
  child.unref();
}
