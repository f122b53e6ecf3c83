import type { AgentRole } from "../../../agents/agent.js";
import { invokeTool, type RepoTool, type ToolContext, type ToolOutcome } from "../../../agents/tools/tool.js";
import { KoderzError } from "../../errors.js";
import type { ChatMessage, ModelBackend } from "../../llm/types.js";
import type { SolveTrajectory } from "./solve-trajectory.js";

export interface ToolLoopRequest {
  role: AgentRole;
  backend: ModelBackend;
  system: string;
  user: string;
  tools: readonly RepoTool[];
  context: ToolContext;
  trajectory: SolveTrajectory;
  signal?: AbortSignal;
  /** Tokens one answer may have (the mode spec's answerTokens). */
  maxTokens?: number;
}

export interface ToolLoopResult {
  /** The role's last answer without tool calls: its summary, plan, review. */
  text: string;
  /** Set when a budget ended the loop before the role finished. */
  stoppedBy?: string;
}

const DEFAULT_ANSWER_TOKENS = 4096;

/**
 * One role at work: the model answers, koderz runs the tools it called and sends back what they
 * returned, until the model answers without a tool call or a budget runs out. Every model turn
 * and every tool call becomes a step.
 */
export async function runToolLoop(request: ToolLoopRequest): Promise<ToolLoopResult> {
  const { role, backend, tools, context, trajectory, signal } = request;
  const messages: ChatMessage[] = [
    { role: "system", content: request.system },
    { role: "user", content: request.user },
  ];
  let prompt = `${request.system}\n\n${request.user}`;
  let lastText = "";
  for (;;) {
    const stoppedBy = trajectory.exhausted();
    if (stoppedBy) return { text: lastText, stoppedBy };
    const response = await backend.chat({ messages, tools: tools.map((t) => t.spec), temperature: 0, maxTokens: request.maxTokens ?? DEFAULT_ANSWER_TOKENS, signal });
    trajectory.addModelTurn(role, backend.model, prompt, response);
    if (response.text.trim()) lastText = response.text.trim();
    messages.push({ role: "assistant", content: response.text, ...(response.toolCalls.length ? { toolCalls: response.toolCalls } : {}) });
    if (response.toolCalls.length === 0) return { text: lastText };

    for (const call of response.toolCalls) {
      // Every call gets an answer, even past the budget: providers reject a conversation with an unanswered call.
      const limit = trajectory.exhausted();
      if (limit) {
        messages.push({ role: "tool", toolCallId: call.id, content: `error: not run, the ${limit} is used up` });
        continue;
      }
      const started = performance.now();
      const outcome = await invokeSafely(tools, call, context);
      trajectory.addToolCall(role, call, outcome, performance.now() - started);
      messages.push({ role: "tool", toolCallId: call.id, content: outcome.output });
    }
    // Later turns add only tool answers, which are stored as their own steps.
    prompt = `(continued after ${response.toolCalls.length} tool result${response.toolCalls.length === 1 ? "" : "s"})`;
  }
}

/**
 * A tool that throws is reported to the model as an error, except when the workspace itself is
 * gone (the container died) or the user interrupted: no answer from the model can fix that, so
 * the run stops.
 */
async function invokeSafely(tools: readonly RepoTool[], call: Parameters<typeof invokeTool>[1], context: ToolContext): Promise<ToolOutcome> {
  try {
    return await invokeTool(tools, call, context);
  } catch (error) {
    if (error instanceof KoderzError && (error.code === "sandbox_unavailable" || error.code === "interrupted")) throw error;
    return { output: `error: the tool failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  }
}
