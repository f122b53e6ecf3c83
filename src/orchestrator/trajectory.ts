import type { AgentCall } from "../../agents/agent.js";
import { responseForTheRecord } from "../llm/response-record.js";
import { MODEL_CALL, STEP_BY_KODERZ, type StepRecord } from "../store/index.js";
import { exhaustedLimit, type Budget, type Spend } from "./budget.js";

export type StepDraft = Omit<StepRecord, "experimentId" | "index">;
export type StepListener = (step: StepDraft, index: number) => void;

/** What a step adds beyond its model call: the code it produced and how that code fared. */
export interface StepProduct {
  code?: string;
  testOutput?: string;
  visiblePassFraction?: number;
}

/**
 * The steps of one experiment, in order, with what they spent. Pipelines ask it whether the
 * budget still has room before each agent call.
 */
export class Trajectory {
  readonly steps: StepDraft[] = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly budget: Budget = {},
    private readonly onStep?: StepListener,
  ) {}

  add(call: AgentCall, result: StepProduct = {}): void {
    this.record({
      agent: call.agent,
      action: MODEL_CALL,
      model: call.model,
      prompt: call.prompt,
      response: responseForTheRecord(call.response),
      code: result.code,
      testOutput: result.testOutput,
      visiblePassFraction: result.visiblePassFraction,
      inputTokens: call.response.usage.input,
      outputTokens: call.response.usage.output,
      costUsd: call.response.costUsd,
      latencyMs: call.response.latencyMs,
    });
  }

  /** A ladder climbed a rung: where to, and why (what the cheaper rung spent and left failing). */
  addEscalation(to: string, why: string): void {
    this.record({ agent: STEP_BY_KODERZ, action: "escalate", prompt: to, response: why, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs: 0 });
  }

  /** Every step goes onto the list here, and its listener is told. */
  protected record(step: StepDraft): void {
    this.steps.push(step);
    this.onStep?.(step, this.steps.length - 1);
  }

  spend(): Spend {
    return {
      steps: this.steps.length,
      tokens: this.steps.reduce((sum, s) => sum + s.inputTokens + s.outputTokens, 0),
      usd: this.steps.reduce((sum, s) => sum + s.costUsd, 0),
      seconds: (Date.now() - this.startedAt) / 1000,
    };
  }

  /** The limit that stops the next call, or undefined when the budget has room. */
  exhausted(): string | undefined {
    return exhaustedLimit(this.budget, this.spend());
  }
}
