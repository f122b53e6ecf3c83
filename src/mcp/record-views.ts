import { exportRow, type ExperimentRecord, type KnownFigures, type StepRecord } from "../store/index.js";
import { clipText } from "./paging.js";

/**
 * An experiment and its steps as the tools and resources show them: the field names of the
 * JSON export (camelCase, cost in dollars), absent values as null, and each long text cut to
 * `maxChars` (the resources keep them whole).
 */

export function experimentView(experiment: ExperimentRecord, maxChars = Number.POSITIVE_INFINITY, known: KnownFigures = { cost: true, tokens: true }) {
  return { ...exportRow(experiment, known), finalCode: clipText(experiment.finalCode, maxChars) };
}

export function stepView(step: StepRecord, maxChars = Number.POSITIVE_INFINITY) {
  return {
    index: step.index,
    agent: step.agent,
    action: step.action,
    model: step.model ?? null,
    prompt: clipText(step.prompt, maxChars),
    response: clipText(step.response, maxChars),
    code: clipText(step.code, maxChars),
    testOutput: clipText(step.testOutput, maxChars),
    visiblePassFraction: step.visiblePassFraction ?? null,
    inputTokens: step.inputTokens,
    outputTokens: step.outputTokens,
    costUsd: step.costUsd,
    latencyMs: step.latencyMs,
  };
}
