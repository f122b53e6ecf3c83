import { z } from "zod";
import { parseOptions } from "./parse.js";

/** `koderz mcp` once commander has its flags: their values, then the server until stdin ends or Ctrl-C. */
export async function serveMcp(raw: unknown, version: string): Promise<void> {
  const options = parseOptions(McpOptions, raw);
  // Loaded once the values are checked: a bad one loads no SDK or store.
  const [{ AnsweringStdioTransport }, { serveHttp }, { createMcpServer }, { ReadOnlyStoreAccess }, { resolveDbPath }, { interrupted }] = await Promise.all([
    import("../mcp/stdio-transport.js"),
    import("../mcp/http.js"),
    import("../mcp/server.js"),
    import("../mcp/store-access.js"),
    import("../store/index.js"),
    import("./interrupt.js"),
  ]);
  const access = new ReadOnlyStoreAccess(options.db);
  const store = resolveDbPath(options.db);
  try {
    if (options.http === undefined) {
      const server = createMcpServer(access, version);
      const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
      // The transport does not notice the client going away; stdin ending is that signal.
      process.stdin.once("end", () => void server.close());
      await server.connect(new AnsweringStdioTransport());
      process.stderr.write(`koderz mcp: serving ${store} read-only over stdio\n`);
      await closed;
    } else {
      const http = await serveHttp(() => createMcpServer(access, version), options.http);
      process.stderr.write(`koderz mcp: ${http.url} (store ${store}, read-only; Ctrl-C to stop)\n`);
      await interrupted();
      await http.close();
      process.stderr.write("koderz mcp: stopped\n");
    }
  } finally {
    access.close();
  }
}

const McpOptions = z.object({
  db: z.string().min(1).optional(),
  http: z
    .string()
    .regex(/^\d+$/, "a port number, 0 to 65535")
    .transform(Number)
    .refine((port) => port <= 65535, "a port number, 0 to 65535")
    .optional(),
});
