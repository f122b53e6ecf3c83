import path from "node:path";
import { z } from "zod";
import type { ToolCall, ToolSpec } from "../../src/llm/types.js";

/**
 * Tools the repository-level agents call as functions. Each tool is a zod schema (turned into
 * the JSON Schema both OpenAI-compatible and Ollama backends send) and a handler. Anything wrong
 * with a call (unknown tool, broken JSON, arguments that fail the schema, a search text that is
 * not in the file) goes back to the model as the tool's answer, so it can correct itself: a
 * model's mistake never stops a run.
 */

/** What the tools need of the container the repository lives in (sandbox/workspace.ts provides it). */
export interface ToolWorkspace {
  exec(argv: string[], options?: { timeoutSeconds?: number; stdin?: string; maxOutputBytes?: number }): Promise<ToolExecResult>;
  /** The file's text, or undefined when it does not exist. */
  readFile(relativePath: string): Promise<string | undefined>;
  writeFile(relativePath: string, content: string): Promise<void>;
}

export interface ToolExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
}

/** One run of the repository's tests, as run_tests reports it. */
export interface TestRunReport {
  command: string;
  passed: boolean;
  exitCode: number;
  timedOut: boolean;
  output: string;
}

export interface ToolContext {
  workspace: ToolWorkspace;
  /** Runs the repository's test command, or only the named tests. */
  runTests(tests?: string[]): Promise<TestRunReport>;
}

export interface ToolOutcome {
  /** What the model reads back. */
  output: string;
  isError: boolean;
  /** For the stored step: test output of run_tests and run. */
  testOutput?: string;
}

/** A tool with its schema erased: what the loop holds in lists and sends to models. */
export interface RepoTool {
  readonly name: string;
  readonly spec: ToolSpec;
  invoke(call: ToolCall, context: ToolContext): Promise<ToolOutcome>;
}

export interface ToolDefinition<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  run(args: z.output<S>, context: ToolContext): Promise<ToolOutcome>;
}

/** Thrown by handlers for a mistake the model can fix; the message goes back to it. */
export class ToolInputError extends Error {
  override readonly name = "ToolInputError";
}

// A tool answer bigger than this crowds out the rest of the conversation.
export const MAX_TOOL_OUTPUT_CHARS = 16_000;

export function defineTool<S extends z.ZodObject>(definition: ToolDefinition<S>): RepoTool {
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(definition.schema, { io: "input" }) as Record<string, unknown>;
  return {
    name: definition.name,
    spec: { name: definition.name, description: definition.description, parameters },
    async invoke(call, context) {
      if (call.argumentsError !== undefined) return failure(`${call.argumentsError}. Call ${definition.name} again with a JSON object as its arguments.`);
      const parsed = definition.schema.safeParse(call.arguments);
      if (!parsed.success) return failure(`invalid arguments for ${definition.name}: ${describeIssues(parsed.error)}`);
      try {
        return await definition.run(parsed.data, context);
      } catch (error) {
        if (error instanceof ToolInputError) return failure(error.message);
        throw error;
      }
    },
  };
}

export function success(output: string, testOutput?: string): ToolOutcome {
  return { output: clip(output), isError: false, ...(testOutput !== undefined ? { testOutput } : {}) };
}

export function failure(message: string): ToolOutcome {
  return { output: `error: ${message}`, isError: true };
}

/** Keeps the head and the tail: errors are usually at the end of test output, context at the start. */
export function clip(text: string, limit = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= limit) return text;
  const head = Math.floor(limit * 0.3);
  const tail = limit - head;
  return `${text.slice(0, head)}\n... (${text.length - limit} characters cut) ...\n${text.slice(-tail)}`;
}

/**
 * A path inside the repository, relative to its root. Absolute paths under /workspace are
 * accepted (models write them); anything leading outside, or into .git, is a mistake.
 */
export function repoPath(raw: string, options: { allowRoot?: boolean } = {}): string {
  const trimmed = raw.trim().replace(/^\/workspace(\/|$)/, "");
  if (trimmed.startsWith("/")) throw new ToolInputError(`${raw} is outside the repository; use a path relative to the repository root`);
  const normal = path.posix.normalize(trimmed === "" ? "." : trimmed).replace(/\/$/, "");
  if (normal === ".." || normal.startsWith("../")) throw new ToolInputError(`${raw} is outside the repository`);
  if (normal === ".git" || normal.startsWith(".git/")) throw new ToolInputError("the .git directory is not part of the task");
  if (normal === "." && !options.allowRoot) throw new ToolInputError("give a file path, not the repository root");
  return normal;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "arguments"}: ${issue.message}`)
    .join("; ");
}

/** Runs one call against the tools an agent may use; an unknown name is the model's mistake too. */
export async function invokeTool(tools: readonly RepoTool[], call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return failure(`there is no tool named ${JSON.stringify(call.name)}; the tools are ${tools.map((t) => t.name).join(", ")}`);
  return tool.invoke(call, context);
}
