import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { KoderzError } from "../errors.js";

/** Loopback only: the store has no login, so the server is for this machine's clients alone. */
const HOST = "127.0.0.1";
export const MCP_PATH = "/mcp";

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves MCP over streamable HTTP at http://127.0.0.1:PORT/mcp, stateless: every POST gets a
 * fresh server and transport (the SDK's pattern for servers without sessions), so one
 * client's failure or disconnect cannot disturb another. Host and Origin headers must name
 * the loopback address, which stops a web page from reaching the server by DNS rebinding.
 */
export async function serveHttp(newServer: () => McpServer, port: number): Promise<RunningHttpServer> {
  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      process.stderr.write(`koderz mcp: ${error instanceof Error ? error.message : String(error)}\n`);
      if (!response.headersSent) reply(response, 500, "internal error");
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (new URL(request.url ?? "/", "http://localhost").pathname !== MCP_PATH) return reply(response, 404, `not found: MCP is served at ${MCP_PATH}`);
    if (request.method !== "POST") return reply(response, 405, "this server has no sessions: send requests with POST");
    const { port: actual } = http.address() as AddressInfo;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts: [`${HOST}:${actual}`, `localhost:${actual}`],
      allowedOrigins: [`http://${HOST}:${actual}`, `http://localhost:${actual}`],
    });
    const server = newServer();
    response.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  }

  await new Promise<void>((resolve, reject) => {
    http.once("error", (error: NodeJS.ErrnoException) =>
      reject(new KoderzError("usage", `cannot listen on ${HOST}:${port}: ${error.code ?? error.message}`, "pick another --http port (0 picks a free one)")),
    );
    http.listen(port, HOST, resolve);
  });
  const { port: bound } = http.address() as AddressInfo;
  return {
    url: `http://${HOST}:${bound}${MCP_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** A JSON-RPC error body, as the streamable HTTP transport answers requests it refuses. */
function reply(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}
