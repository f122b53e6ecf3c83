import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/**
 * MCP over stdio, one JSON-RPC message per line, as the SDK's StdioServerTransport, except that
 * a line that is not a message gets a JSON-RPC error back (the SDK's drops it in silence, so a
 * client that sent a broken request waits forever): -32700 for a line that is not JSON,
 * -32600 for JSON that is not a JSON-RPC message (with its id when it has a usable one).
 */
export class AnsweringStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private buffer = "";
  private closed = false;

  constructor(
    private readonly input: Readable = process.stdin,
    private readonly output: Writable = process.stdout,
  ) {}

  async start(): Promise<void> {
    this.input.setEncoding("utf8");
    this.input.on("data", this.onData);
    this.input.on("error", this.onInputError);
  }

  private readonly onData = (chunk: string): void => {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf("\n"); end >= 0; end = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, end).replace(/\r$/, "");
      this.buffer = this.buffer.slice(end + 1);
      if (line.trim() !== "") this.receive(line);
    }
  };

  private readonly onInputError = (error: Error): void => this.onerror?.(error);

  private receive(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      void this.reply(null, ErrorCode.ParseError, `Parse error: the line is not JSON (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    const message = JSONRPCMessageSchema.safeParse(json);
    if (!message.success) {
      void this.reply(usableId(json), ErrorCode.InvalidRequest, "Invalid Request: the line is JSON but not a JSON-RPC 2.0 request, notification or response");
      return;
    }
    this.onmessage?.(message.data);
  }

  private reply(id: string | number | null, code: number, message: string): Promise<void> {
    // JSON-RPC 2.0 answers an unreadable request with id null; the SDK's message type has no such id.
    return this.write(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }) + "\n");
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(JSON.stringify(message) + "\n");
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(text)) resolve();
      else this.output.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off("data", this.onData);
    this.input.off("error", this.onInputError);
    if (this.input.listenerCount("data") === 0) this.input.pause();
    this.buffer = "";
    this.onclose?.();
  }
}

function usableId(json: unknown): string | number | null {
  if (typeof json !== "object" || json === null || !("id" in json)) return null;
  const id = (json as { id: unknown }).id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}
