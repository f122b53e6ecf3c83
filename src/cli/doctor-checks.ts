import { execFile } from "node:child_process";
import { REVIEWER, parseReview } from "../../agents/reviewer.js";
import { readFile } from "../../agents/tools/index.js";
import type { Task } from "../../tasks/task.js";
import { KoderzError } from "../errors.js";
import { sanitizeCompletions } from "../evaluation/sanitize.js";
import { readJudgeVerdict } from "../evaluation/scorers/judge-verdict.js";
import { judgeCall } from "../evaluation/scorers/rubric.js";
import { claimedContextLength, costUsd, type ChatRequest, type ChatResponse, type ModelBackend, type ModelSpec, type RetryEvent } from "../llm/index.js";

/**
 * `koderz doctor`'s checks of one model: each asks what a run will ask (the Coder's code, the
 * Reviewer's and the judge's verdicts, solve's tool calls) with a tiny prompt, reads the answer
 * exactly as a run reads it, and says in one row what it found and what koderz will do about it.
 */

export const CHECKS = ["reachable", "served", "chat", "usage", "reasoning", "code", "reviewer-json", "judge-json", "tools", "context", "streaming", "rate-limits"] as const;
export type CheckName = (typeof CHECKS)[number];
/** ok: works as koderz needs; warn: works through a koderz fallback (the row says which); fail: a run would go wrong; skip: not checked. */
export type RowStatus = "ok" | "warn" | "fail" | "skip";

export interface DoctorRow {
  check: CheckName;
  status: RowStatus;
  detail: string;
  /** What koderz does about it, or how to fix the server; null when there is nothing to do. */
  action: string | null;
}

export interface DoctorReport {
  model: string;
  rows: DoctorRow[];
  /** The code answer's latency and output speed; null when it did not come. */
  latencyMs: number | null;
  tokensPerSecond: number | null;
  timeToFirstTokenMs: number | null;
  contextClaimed: number | null;
  contextAccepted: number | null;
  inputTokens: number;
  outputTokens: number;
  /** What the checks cost, from the registry's prices; null when koderz has no price for the model. */
  costUsd: number | null;
  /** True when any token count above is koderz's estimate. */
  usageEstimated: boolean;
}

export interface DoctorOptions {
  /** Short form (`benchmark --doctor`): reachability, chat, usage, code and JSON only. */
  quick?: boolean;
  /** The most the context probe may cost, in dollars. */
  maxProbeUsd?: number;
  signal?: AbortSignal;
}

/** A context probe over this many tokens would take minutes on a CPU server: not worth a quick check. */
const MAX_PROBE_TOKENS = 140_000;
const DEFAULT_MAX_PROBE_USD = 0.05;

/** The retry events a doctor's backend saw (429s above all), for the rate-limits row. */
export class RetryLog {
  readonly events: RetryEvent[] = [];
  readonly record = (event: RetryEvent): void => void this.events.push(event);
}

export async function doctorModel(backend: ModelBackend, spec: ModelSpec, retries: RetryLog, options: DoctorOptions = {}): Promise<DoctorReport> {
  const rows: DoctorRow[] = [];
  const responses: ChatResponse[] = [];
  const row = (check: CheckName, status: RowStatus, detail: string, action: string | null = null) => rows.push({ check, status, detail, action });
  const report: DoctorReport = {
    model: backend.model,
    rows,
    latencyMs: null,
    tokensPerSecond: null,
    timeToFirstTokenMs: null,
    contextClaimed: null,
    contextAccepted: null,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: spec.prices ? 0 : null,
    usageEstimated: false,
  };
  const ask = async (request: ChatRequest): Promise<ChatResponse> => {
    const response = await backend.chat({ temperature: 0, ...request, ...(options.signal ? { signal: options.signal } : {}) });
    responses.push(response);
    return response;
  };

  if (!(await checkReachable(backend, row))) return finish(report, responses, rows, retries);
  await checkChat(ask, row, spec);
  await checkCode(ask, row, report);
  await checkReviewer(ask, row);
  await checkJudge(backend, responses, row, options.signal);
  if (!options.quick) {
    await checkTools(ask, row);
    await checkContext(backend, spec, row, report, options);
    await checkStreaming(ask, row, report);
  }
  return finish(report, responses, rows, retries);
}

type Row = (check: CheckName, status: RowStatus, detail: string, action?: string | null) => void;
type Ask = (request: ChatRequest) => Promise<ChatResponse>;

async function checkReachable(backend: ModelBackend, row: Row): Promise<boolean> {
  try {
    await backend.preflight();
    row("reachable", "ok", "the server answered");
    row("served", "ok", "the server has the model");
    return true;
  } catch (error) {
    const { message, hint } = described(error);
    // A server that answered but lacks the model is reachable; a missing key or a dead host is not.
    const answered = /does not serve|has no model/.test(message);
    row("reachable", answered ? "ok" : "fail", answered ? "the server answered" : message, answered ? null : hint);
    row("served", answered ? "fail" : "skip", answered ? message : "not reachable", answered ? hint : null);
    return false;
  }
}

async function checkChat(ask: Ask, row: Row, spec: ModelSpec): Promise<void> {
  let response: ChatResponse;
  try {
    response = await ask({ messages: [{ role: "user", content: "Reply with the single word: ready" }], maxTokens: 512 });
  } catch (error) {
    const { message, hint } = described(error);
    row("chat", "fail", message, hint);
    return;
  }
  if (response.text.trim()) row("chat", "ok", `answered ${JSON.stringify(clip(response.text, 40))} in ${response.latencyMs} ms`);
  else if (response.reasoning) row("chat", "warn", "only reasoning, no answer, within 512 tokens", "thinking models need room: give it more answer tokens (the mode spec's answerTokens, --max-tokens)");
  else row("chat", "fail", "an empty answer", "check the model name and the server's chat template");

  if (response.usageEstimated) {
    row("usage", "warn", `the server reported no token counts; koderz estimated ${response.usage.input} in, ${response.usage.output} out`, "koderz estimates tokens (about 4 characters a token) and marks them estimated; budgets and costs are approximate");
  } else if (response.usage.output === 0) {
    row("usage", "warn", `the server reported ${response.usage.input} in, 0 out for a non-empty answer`, "token budgets will undercount this model");
  } else if (!spec.prices) {
    row("usage", "warn", `${response.usage.input} in, ${response.usage.output} out; koderz has no price for this model`, `its cost counts as $0: set "prices" for ${spec.id} in koderz.config.json`);
  } else {
    row("usage", "ok", `${response.usage.input} in, ${response.usage.output} out ($${costUsd(response.usage, spec.prices).toFixed(6)})`);
  }
}

const CODE_TASK = { prompt: 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n', entryPoint: "add" };

async function checkCode(ask: Ask, row: Row, report: DoctorReport): Promise<void> {
  let response: ChatResponse;
  try {
    response = await ask({
      messages: [{ role: "user", content: `Complete the following Python function:\n\n\`\`\`python\n${CODE_TASK.prompt}\`\`\`` }],
      maxTokens: 1024,
    });
  } catch (error) {
    const { message, hint } = described(error);
    row("code", "fail", message, hint);
    return;
  }
  report.latencyMs = response.latencyMs;
  if (response.latencyMs > 0 && response.usage.output > 0) report.tokensPerSecond = Math.round((response.usage.output / response.latencyMs) * 1000 * 10) / 10;
  if (response.stopReason === "length") {
    row("code", "fail", "the answer stopped at the 1024-token limit", "koderz records such answers as cut off, not as wrong code; give the model more answer tokens, or use a non-thinking variant");
    return;
  }
  const [sanitized] = await sanitizeCompletions([{ ...CODE_TASK, output: response.text }]);
  const program = CODE_TASK.prompt + sanitized!.completion;
  const syntax = await pythonSyntaxError(program);
  const reasoningNote = response.reasoning ? "; its reasoning was set apart, not taken for code" : "";
  if (!sanitized!.completion.trim() || syntax) {
    row("code", "fail", `the sanitizer found no valid function (${syntax ?? "no code"}) in ${JSON.stringify(clip(response.text, 60))}`, "the model does not answer in code: try another model or prompt");
  } else {
    row("code", "ok", `the sanitizer found the function (${sanitized!.how})${reasoningNote}`);
  }
  if (response.reasoning) row("reasoning", "ok", `a thinking model: ${response.reasoning.length} characters of reasoning`, "koderz keeps reasoning in the trajectory and counts its tokens, and never reads it as code or a tool call");
}

async function checkReviewer(ask: Ask, row: Row): Promise<void> {
  const spec = REVIEWER.humaneval;
  try {
    const response = await ask({
      messages: [
        { role: "system", content: spec.system() },
        { role: "user", content: `The function:\n\n\`\`\`python\n${CODE_TASK.prompt}    return a + b\n\`\`\`\n\nTest results:\n3 of 3 visible tests passed.` },
      ],
      maxTokens: 1024,
      responseSchema: spec.responseSchema,
    });
    const answer = response.text.trim();
    // The function is right and its tests pass: a Reviewer that reads well accepts it.
    const review = parseReview(answer);
    const form = answer.startsWith("{") ? "JSON" : /```/.test(answer) ? "JSON in a fence (the schema was not enforced; koderz reads it)" : "its text form";
    if (review.accept) row("reviewer-json", "ok", `ACCEPT, in ${form}`);
    else if (/\bREJECT\b/i.test(answer)) row("reviewer-json", "warn", `rejected a correct function: ${JSON.stringify(clip(review.feedback, 60))}`, "a strict Reviewer costs extra rounds, not wrong verdicts");
    else row("reviewer-json", "fail", `no ACCEPT or REJECT in ${JSON.stringify(clip(answer, 60))}`, "koderz counts such a review as a rejection; use another model for the Reviewer (--model-for Reviewer=...)");
  } catch (error) {
    const { message, hint } = described(error);
    row("reviewer-json", "fail", message, hint);
  }
}

const JUDGE_TASK: Task = { id: "doctor/add", index: 0, suite: "doctor", ...CODE_TASK, canonicalSolution: "", visibleExamples: [], hiddenTest: "" };

async function checkJudge(backend: ModelBackend, responses: ChatResponse[], row: Row, signal?: AbortSignal): Promise<void> {
  try {
    const criteria = [{ name: "clarity", weight: 1, judge: "Is the code easy to read?" }];
    const call = await judgeCall(backend, JUDGE_TASK, "    return a + b\n", criteria, signal);
    responses.push(call.response);
    const reading = readJudgeVerdict(call.response.text, ["clarity"]);
    if (reading.ok) row("judge-json", "ok", `a verdict held to the judge's schema (clarity ${reading.scores.get("clarity")!.score}/5)`);
    else row("judge-json", "fail", reading.error, "rubric criteria judged by this model would stay undecided: use another judge (the Reviewer's model, --model-for Reviewer=...)");
  } catch (error) {
    const { message, hint } = described(error);
    row("judge-json", "fail", message, hint);
  }
}

const TOOL_PARSER_FIX =
  "enable the server's tool parser so calls come as tool_calls: vLLM --enable-auto-tool-choice --tool-call-parser qwen3_coder (Qwen3-Coder) or hermes (Qwen2.5/Qwen3)";

async function checkTools(ask: Ask, row: Row): Promise<void> {
  const tools = [readFile.spec];
  const messages: ChatRequest["messages"] = [
    { role: "system", content: "You work in a repository through tools. Call a tool whenever you need to see a file." },
    { role: "user", content: "Read the file README.md with the read_file tool, then tell me its first word." },
  ];
  try {
    const first = await ask({ messages, tools, maxTokens: 1024 });
    const call = first.toolCalls[0];
    if (!call) {
      row("tools", "fail", `no tool call; it answered ${JSON.stringify(clip(first.text, 60))}`, `solve's agents need tool calls: use another model for them (--model-for Coder=...), or ${TOOL_PARSER_FIX}`);
      return;
    }
    if (call.name !== "read_file" || call.argumentsError) {
      row("tools", "fail", `a call koderz cannot run: ${call.name}(${call.argumentsError ?? JSON.stringify(call.arguments)})`, "koderz tells the model its mistake and lets it try again; a model that keeps doing this will not solve issues");
      return;
    }
    messages.push({ role: "assistant", content: first.text, toolCalls: first.toolCalls });
    messages.push({ role: "tool", toolCallId: call.id, content: "README.md lines 1-1 of 1:\n1| koderz checks itself" });
    const second = await ask({ messages, tools, maxTokens: 1024 });
    const roundTrip = second.toolCalls.length === 0 && second.text.trim() !== "";
    const status: RowStatus = !roundTrip ? "fail" : first.toolCallsFromText ? "warn" : "ok";
    const detail = `read_file called${first.toolCallsFromText ? ` as text (${first.toolCallsFromText === "qwen3-xml" ? "Qwen3-Coder XML" : "Hermes JSON"})` : ""}; ${roundTrip ? "answered after the result" : "no answer after the result"}`;
    const action = first.toolCallsFromText ? `koderz reads such calls itself and notes it in the trajectory; better: ${TOOL_PARSER_FIX}` : roundTrip ? null : "the model does not use tool results: use another model for solve's agents";
    row("tools", status, detail, action);
  } catch (error) {
    const { message, hint } = described(error);
    row("tools", "fail", message, hint ?? TOOL_PARSER_FIX);
  }
}

async function checkContext(backend: ModelBackend, spec: ModelSpec, row: Row, report: DoctorReport, options: DoctorOptions): Promise<void> {
  const claimed = spec.contextLength ?? (await claimedContextLength(spec));
  report.contextClaimed = claimed ?? null;
  if (!claimed) {
    const fix = spec.provider === "ollama" ? `set "contextLength" for ${spec.id} in koderz.config.json (sent as num_ctx; Ollama's default is small and it cuts longer prompts silently)` : `set "contextLength" for ${spec.id} in koderz.config.json`;
    row("context", "warn", "the server states no context length", fix);
    return;
  }
  const probeTokens = claimed + 512;
  const probeUsd = costUsd({ input: probeTokens, output: 1 }, spec.prices);
  const limitUsd = options.maxProbeUsd ?? DEFAULT_MAX_PROBE_USD;
  if (probeTokens > MAX_PROBE_TOKENS || probeUsd > limitUsd) {
    row("context", "skip", `claims ${claimed} tokens; not probed (a ${probeTokens}-token prompt${probeUsd > limitUsd ? ` would cost up to $${probeUsd.toFixed(2)}` : " is too slow to check here"})`, probeUsd > limitUsd ? `pass --max-probe-usd ${Math.ceil(probeUsd * 100) / 100} to pay for the probe` : null);
    return;
  }
  // About one token per word for any BPE tokenizer: "word " repeated is the cheapest long prompt.
  const filler = "word ".repeat(probeTokens);
  try {
    const response = await backend.chat({ messages: [{ role: "user", content: `${filler}\nReply with: ok` }], maxTokens: 1, temperature: 0, ...(options.signal ? { signal: options.signal } : {}) });
    report.inputTokens += response.usage.input;
    report.outputTokens += response.usage.output;
    if (report.costUsd !== null) report.costUsd += response.costUsd;
    report.contextAccepted = response.usageEstimated ? null : response.usage.input;
    // It was sent ~512 tokens more than it claims; reading no more than its claim means it dropped the rest.
    if (!response.usageEstimated && response.usage.input <= claimed + 256) {
      row("context", "warn", `claims ${claimed} tokens, took a ~${probeTokens}-token prompt without error but read only ${response.usage.input}: it cut the prompt silently`, spec.provider === "ollama" ? `give ${spec.id} a "contextLength" in koderz.config.json (sent as num_ctx) no larger than the model supports` : "raise the server's context (vLLM: --max-model-len), or keep koderz's prompts short");
    } else {
      row("context", "warn", `claims ${claimed} tokens but took a ~${probeTokens}-token prompt${response.usageEstimated ? "" : ` (${response.usage.input} read)`}`, "the claim is lower than what it accepts: koderz uses the claim");
    }
  } catch (error) {
    const { message, hint } = described(error);
    if (/do not fit/.test(message)) {
      report.contextAccepted = claimed;
      row("context", "ok", `claims ${claimed} tokens and refuses a longer prompt with a clear error`, null);
    } else {
      row("context", "fail", message, hint);
    }
  }
}

async function checkStreaming(ask: Ask, row: Row, report: DoctorReport): Promise<void> {
  try {
    const response = await ask({ messages: [{ role: "user", content: "Count from 1 to 5, separated by spaces." }], maxTokens: 512, stream: true });
    report.timeToFirstTokenMs = response.timeToFirstTokenMs ?? null;
    if (!response.text.trim() && !response.reasoning) row("streaming", "fail", "the stream carried no text", "koderz streams only for speed tests; runs do not need it");
    else if (response.usageEstimated) row("streaming", "warn", `streamed (first token after ${response.timeToFirstTokenMs ?? "?"} ms) with no usage block`, "the server ignores stream_options.include_usage: koderz estimates streamed answers' tokens and marks them estimated");
    else row("streaming", "ok", `first token after ${response.timeToFirstTokenMs ?? "?"} ms, usage included`);
  } catch (error) {
    const { message, hint } = described(error);
    row("streaming", "fail", message, hint);
  }
}

function finish(report: DoctorReport, responses: readonly ChatResponse[], rows: DoctorRow[], retries: RetryLog): DoctorReport {
  for (const response of responses) {
    report.inputTokens += response.usage.input;
    report.outputTokens += response.usage.output;
    if (report.costUsd !== null) report.costUsd += response.costUsd;
    if (response.usageEstimated) report.usageEstimated = true;
  }
  if (!rows.some((r) => r.check === "reasoning") && responses.length > 0) addRow(rows, "reasoning", "ok", "no reasoning returned (not a thinking model, or it is hidden)");
  const limited = retries.events.filter((event) => event.failure.kind === "rate_limited");
  if (limited.length > 0) {
    const asked = limited.filter((event) => event.failure.details.retryAfterMs !== undefined);
    const detail = `${limited.length} answer${limited.length === 1 ? " was" : "s were"} HTTP 429${asked.length ? `, ${asked.length} with Retry-After (${Math.round(asked[0]!.failure.details.retryAfterMs! / 1000)} s)` : ", with no Retry-After"}`;
    addRow(rows, "rate-limits", "warn", detail, asked.length ? "koderz waits as the server asks and retries (5 attempts); lower --concurrency if a run hits it often" : "koderz backs off exponentially and retries (5 attempts); lower --concurrency if a run hits it often");
  } else if (responses.length > 0) {
    addRow(rows, "rate-limits", "ok", "no 429 answers");
  }
  rows.sort((a, b) => CHECKS.indexOf(a.check) - CHECKS.indexOf(b.check));
  return report;
}

function addRow(rows: DoctorRow[], check: CheckName, status: RowStatus, detail: string, action: string | null = null): void {
  rows.push({ check, status, detail, action });
}

function described(error: unknown): { message: string; hint: string | null } {
  if (error instanceof KoderzError) return { message: error.message, hint: error.hint ?? null };
  return { message: error instanceof Error ? error.message : String(error), hint: null };
}

function clip(text: string, length: number): string {
  const flat = text.trim().replace(/\s+/g, " ");
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/** Python's own parser on the program (nothing runs): the code a run would grade must at least parse. */
function pythonSyntaxError(program: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile("python3", ["-I", "-c", "import ast, sys\ntry:\n    ast.parse(sys.stdin.read())\nexcept SyntaxError as e:\n    print(f'line {e.lineno}: {e.msg}')"], (error, stdout) => {
      resolve(error ? `python3 failed: ${error.message}` : stdout.trim() || undefined);
    });
    child.stdin?.end(program);
  });
}
