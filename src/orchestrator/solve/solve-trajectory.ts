import type { Agent } from "../../../agents/agent.js";
import type { TurnLog } from "../../../agents/run-agent.js";
import type { ToolOutcome } from "../../../agents/tools/tool.js";
import { responseForTheRecord } from "../../llm/response-record.js";
import { serializeToolArguments } from "../../llm/tool-arguments.js";
import type { ChatResponse, ToolCall } from "../../llm/types.js";
import type { Budget } from "../budget.js";
import { MODEL_CALL, STEP_BY_KODERZ } from "../../store/index.js";
import { Trajectory, type StepListener } from "../trajectory.js";

export interface SolveBudget extends Budget {
  /** Tool calls by all agents together (--max-tool-calls). */
  maxToolCalls?: number;
}

// A stored tool answer beyond this is cut; the model saw at most MAX_TOOL_OUTPUT_CHARS anyway.
const MAX_STORED_CHARS = 64_000;

/**
 * The steps of one solve: model turns, tool calls and the orchestrator's own test runs, with the
 * budget (tokens, dollars, wall time from Trajectory, plus tool calls) checked before each.
 *
 * Each step names who took it and what it did (see StepRecord): a model turn is the agent's
 * "model" action; a tool call the model made is the agent's tool ("Coder", "edit"), so a trace
 * shows who did what; a test run koderz made itself (baseline, checks, grading) is koderz's
 * "run_tests".
 */
export class SolveTrajectory extends Trajectory implements TurnLog {
  private toolCallCount = 0;

  constructor(
    private readonly limits: SolveBudget = {},
    listener?: StepListener,
  ) {
    super(limits, listener);
  }

  get toolCalls(): number {
    return this.toolCallCount;
  }

  get modelCalls(): number {
    return this.steps.filter((step) => step.model !== undefined).length;
  }

  /** A model turn: its text and the tool calls it asked for. */
  addModelTurn(agent: Agent, model: string, prompt: string, response: ChatResponse): void {
    const calls = response.toolCalls.map((call) => `-> ${call.name}(${serializeToolArguments(call)})`);
    this.record({
      agent,
      action: MODEL_CALL,
      model,
      prompt,
      response: [responseForTheRecord(response), ...calls].filter(Boolean).join("\n"),
      inputTokens: response.usage.input,
      outputTokens: response.usage.output,
      costUsd: response.costUsd,
      latencyMs: response.latencyMs,
    });
  }

  addToolCall(agent: Agent, call: ToolCall, outcome: ToolOutcome, latencyMs: number): void {
    this.toolCallCount += 1;
    this.record({
      agent,
      action: call.name,
      prompt: serializeToolArguments(call),
      response: outcome.output.slice(0, MAX_STORED_CHARS),
      testOutput: outcome.testOutput?.slice(0, MAX_STORED_CHARS),
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      latencyMs,
    });
  }

  /** A test run koderz made itself; it does not count against the tool-call budget. */
  addCheck(name: string, command: string, output: string, passed: boolean, latencyMs: number): void {
    this.record({
      agent: STEP_BY_KODERZ,
      action: name,
      prompt: command,
      response: passed ? "passed" : "failed",
      testOutput: output.slice(0, MAX_STORED_CHARS),
      visiblePassFraction: passed ? 1 : 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      latencyMs,
    });
  }

  override exhausted(): string | undefined {
    const limit = this.limits.maxToolCalls;
    if (limit !== undefined && this.toolCallCount >= limit) return `tool-call budget (${limit})`;
    return super.exhausted();
  }
}
