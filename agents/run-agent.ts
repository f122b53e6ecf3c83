import { KoderzError } from "../src/errors.js";
import type { ChatMessage, ChatResponse, ModelBackend, ToolCall } from "../src/llm/types.js";
import type { Agent, AgentCall, AgentSpec } from "./agent.js";
import { invokeTool, type RepoTool, type ToolContext, type ToolOutcome } from "./tools/tool.js";

/**
 * The one loop every agent runs in, for both products: the model answers the agent's prompt and
 * message; when the agent has tools, koderz runs those it called and sends back what they
 * returned, until the model answers without a tool call or the budget runs out. The agent's spec
 * then parses the last answer.
 */

export interface RunOptions {
  temperature?: number;
  /** Tokens one answer may have (the mode spec's answerTokens). */
  maxTokens?: number;
  /** Tells parallel trajectories apart, so record/replay keeps them distinct. */
  seed?: number;
  signal?: AbortSignal;
}

/** The record a tool-using agent's turns go to as they happen, and the budget they spend. */
export interface TurnLog {
  /** The limit that stops the next call, or undefined while the budget has room. */
  exhausted(): string | undefined;
  addModelTurn(agent: Agent, model: string, prompt: string, response: ChatResponse): void;
  addToolCall(agent: Agent, call: ToolCall, outcome: ToolOutcome, latencyMs: number): void;
}

/** Where a tool-using agent works: the repository its tools act on, and the log of its turns. */
export interface Workbench {
  tools: ToolContext;
  turns: TurnLog;
}

const ONE_ANSWER_TOKENS = 2048;
const TOOL_TURN_TOKENS = 4096;

/**
 * An agent without tools gives one answer. The caller records the call, because the step it
 * becomes carries what was learned from it (the visible tests' verdict on the code it wrote).
 */
export async function ask<State, Output>(spec: AgentSpec<State, Output>, state: State, backend: ModelBackend, options: RunOptions = {}): Promise<{ output: Output; call: AgentCall }> {
  const turn = await converse(spec, state, backend, { ...options, maxTokens: options.maxTokens ?? ONE_ANSWER_TOKENS });
  return { output: await spec.parse(turn.text, state), call: turn.last! };
}

/** A tool-using agent's turn on a workbench: every model answer and tool call is logged as it happens. */
export async function work<State, Output>(
  spec: AgentSpec<State, Output>,
  state: State,
  backend: ModelBackend,
  bench: Workbench,
  options: RunOptions = {},
): Promise<{ output: Output; stoppedBy?: string }> {
  const turn = await converse(spec, state, backend, { ...options, maxTokens: options.maxTokens ?? TOOL_TURN_TOKENS }, bench);
  return { output: await spec.parse(turn.text, state), stoppedBy: turn.stoppedBy };
}

async function converse<State>(
  spec: AgentSpec<State, unknown>,
  state: State,
  backend: ModelBackend,
  options: RunOptions,
  bench?: Workbench,
): Promise<{ text: string; last?: AgentCall; stoppedBy?: string }> {
  const system = spec.system();
  const user = spec.message(state);
  const tools = bench ? (spec.tools ?? []) : [];
  const messages: ChatMessage[] = [
    { role: "system", content: system },
    { role: "user", content: user },
  ];
  let prompt = `${system}\n\n${user}`;
  let text = "";
  let last: AgentCall | undefined;
  for (;;) {
    const stoppedBy = bench?.turns.exhausted();
    if (stoppedBy) return { text, last, stoppedBy };
    const response = await backend.chat({
      messages,
      ...(tools.length ? { tools: tools.map((tool) => tool.spec) } : {}),
      temperature: options.temperature ?? 0,
      maxTokens: options.maxTokens,
      seed: options.seed,
      responseSchema: spec.responseSchema,
      signal: options.signal,
    });
    last = { agent: spec.agent, model: backend.model, prompt, response };
    if (!bench) return { text: response.text, last };
    bench.turns.addModelTurn(spec.agent, backend.model, prompt, response);
    if (response.text.trim()) text = response.text.trim();
    messages.push({ role: "assistant", content: response.text, ...(response.toolCalls.length ? { toolCalls: response.toolCalls } : {}) });
    if (response.toolCalls.length === 0) return { text, last };

    for (const call of response.toolCalls) {
      // Every call gets an answer, even past the budget: providers reject a conversation with an unanswered call.
      const limit = bench.turns.exhausted();
      if (limit) {
        messages.push({ role: "tool", toolCallId: call.id, content: `error: not run, the ${limit} is used up` });
        continue;
      }
      const started = performance.now();
      const outcome = await invokeSafely(tools, call, bench.tools);
      bench.turns.addToolCall(spec.agent, call, outcome, performance.now() - started);
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
async function invokeSafely(tools: readonly RepoTool[], call: ToolCall, context: ToolContext): Promise<ToolOutcome> {
  try {
    return await invokeTool(tools, call, context);
  } catch (error) {
    if (error instanceof KoderzError && (error.code === "sandbox_unavailable" || error.code === "interrupted")) throw error;
    return { output: `error: the tool failed: ${error instanceof Error ? error.message : String(error)}`, isError: true };
  }
}
