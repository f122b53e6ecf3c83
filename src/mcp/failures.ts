import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { isKoderzError } from "../errors.js";

/**
 * How a failed request reaches the client: tools answer with an error result an assistant can
 * read and act on, resources with a JSON-RPC error. Either way the server keeps serving.
 */

/** MCP's code for a resource that does not exist (the specification's -32002). */
const RESOURCE_NOT_FOUND = -32002;

/** What an assistant (and the person behind it) reads when a call fails: what, then how to fix it. */
export function failureText(error: unknown): string {
  if (isKoderzError(error)) return `${error.code}: ${error.message}${error.hint ? `\nfix: ${error.hint}` : ""}`;
  // Not a failure a user can act on: keep the stack for whoever runs the server.
  process.stderr.write(`koderz mcp: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return `internal: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * An McpError whose message is the text alone. The SDK's McpError puts "MCP error CODE: " in
 * front of its message, sends that message, and the client's McpError puts the prefix in front
 * again ("MCP error -32002: MCP error -32002: ..."): sent bare, the client shows it once.
 */
export class ProtocolFailure extends McpError {
  constructor(code: number, text: string) {
    super(code, text);
    this.message = text;
  }
}

export function mcpErrorFor(error: unknown): McpError {
  if (error instanceof ProtocolFailure) return error;
  // The SDK's own (an unknown resource template, a bad parameter): the same text, bare.
  if (error instanceof McpError) return new ProtocolFailure(error.code, error.message.replace(/^(MCP error -?\d+: )+/, ""));
  const code = !isKoderzError(error)
    ? ErrorCode.InternalError
    : error.code === "not_found"
      ? RESOURCE_NOT_FOUND
      : error.code === "usage" || error.code === "bad_input"
        ? ErrorCode.InvalidParams
        : ErrorCode.InternalError;
  return new ProtocolFailure(code, failureText(error));
}
