import type { PublicTask } from "../tasks/task.js";
import { AGENTS, MAX_AGENT_STEPS, MODE_RULES, MODES, type Agent, type Mode } from "./actions.js";
import { fnv1a32 } from "./prng.js";

/**
 * What the policy sees: features of the task known before solving, and features of the
 * episode so far. Every feature is scaled into [0, 1] (counts through x / (x + scale) or a
 * cap) so no input dominates the network by its units.
 *
 * The task features are optional (buildFeatureSpec's taskText): on a replay of a few hundred
 * tasks, each replayed tens of times, the task text identifies the task, and a network that
 * sees it memorises which tasks pay off instead of learning to read the evidence (the
 * visible-example results after each rung), which is what carries over to new tasks. A
 * spec without them has an empty taskFeatures list.
 *
 * The FeatureSpec travels inside every policy file; a file whose spec differs from what
 * this code computes is refused, because its weights would read the wrong inputs.
 * Changing any feature or scale here means bumping FEATURE_SPEC_VERSION.
 */
export const FEATURE_SPEC_VERSION = 3;
export const DEFAULT_HASH_BUCKETS = 32;

/** Where an episode stands when the policy is asked for its next decision. */
export interface EpisodeState {
  /** null until the first decision (the mode) is made. */
  mode: Mode | null;
  /** Agent steps taken so far. */
  steps: number;
  lastAgent: Agent | null;
  agentCounts: Readonly<Record<Agent, number>>;
  /** Fraction of the visible examples the current code passes (0 before any code). */
  visiblePassFraction: number;
  /** Whether visible examples have been run at all, so 0 means "failing" rather than "unknown". */
  visibleTestsRun: boolean;
  tokens: number;
  costUsd: number;
  /** Tokens of the last agent step: how hard the last rung found the task. */
  lastStepTokens: number;
  /** Dollars of the last agent step. */
  lastStepCostUsd: number;
  /** The rung of the escalation ladder the episode is on (0: the cheapest), and how many rungs it has (1: no ladder). */
  rung: number;
  rungs: number;
  /** How many tests the Tester has written (beyond the docstring's examples). */
  testerTests: number;
  /** The Reviewer's last verdict on the candidate. */
  review: "none" | "accepted" | "rejected";
  /** The best candidate raised an error other than a failed assertion on a visible test: the code does not run. */
  codeRaises: boolean;
  /**
   * What each rung of the ladder costs on average (its price list, cheapest first), in dollars, or
   * tokens when no price is known; null when unknown. The ladder features read every cost relative
   * to the dearest rung's, so they mean the same on any ladder.
   */
  ladderCosts: LadderCosts | null;
}

export interface LadderCosts {
  perRung: readonly number[];
  unit: "usd" | "tokens";
}

export interface FeatureSpec {
  version: number;
  /**
   * "ladder": the state features that mean the same on any ladder (LADDER_STATE_FEATURES: the
   * rung's cost relative to the others, the share of the dearest rung's cost spent, the visible
   * evidence), with no task text; absent: the episode features of one product's modes.
   */
  stateSet?: "ladder";
  hashFunction: "fnv1a32";
  hashBuckets: number;
  taskFeatures: string[];
  stateFeatures: string[];
  size: number;
}

const RETURN_TYPES = ["none", "bool", "int", "float", "str", "list", "dict", "tuple", "other"] as const;
type ReturnType = (typeof RETURN_TYPES)[number];

const BASE_TASK_FEATURES = [
  "prompt_chars",
  "prompt_lines",
  "spec_words",
  "parameter_count",
  "docstring_examples",
  "helper_functions",
  "imports",
  "has_type_hints",
  ...RETURN_TYPES.map((type) => `return_type_${type}`),
];

const STATE_FEATURES = [
  "decision_is_mode",
  ...MODES.map((mode) => `mode_${mode}`),
  "steps_so_far",
  "steps_left_fraction",
  "last_agent_none",
  ...AGENTS.map((agent) => `last_agent_${agent}`),
  ...AGENTS.map((agent) => `count_${agent}`),
  "visible_pass_fraction",
  "visible_tests_run",
  "tokens_spent",
  "dollars_spent",
  "last_step_tokens",
  "rung_fraction",
  "can_escalate",
  "tester_tests",
  "review_accepted",
  "review_rejected",
  "code_raises",
];

/**
 * The features a policy meant for ladders it has never seen reads: nothing names a mode, a model
 * or an agent, and every cost is a share of the dearest rung's. Trained on one ladder, such a
 * policy reads another's states in the same units (train-meta --eval-runs).
 */
export const LADDER_STATE_FEATURES = [
  "decision_is_mode",
  "rung_fraction",
  "can_escalate",
  "rung_cost_share",
  "next_rung_cost_share",
  "spent_share",
  "last_step_cost_ratio",
  "visible_pass_fraction",
  "visible_tests_run",
  "visible_failing",
  "code_raises",
  "review_accepted",
  "review_rejected",
  "tester_tests",
] as const;

/** The scales behind the squashes below: a value equal to its scale maps to 0.5. */
const SCALE = { promptChars: 1000, promptLines: 30, specWords: 100, tokens: 20_000, dollars: 0.05, stepTokens: 2_000, testerTests: 5 } as const;

/** taskText false: the episode's evidence only, no features of the task's text. ladder: the ladder features (no task text either). */
export function buildFeatureSpec(hashBuckets = DEFAULT_HASH_BUCKETS, options: { taskText?: boolean; ladder?: boolean } = {}): FeatureSpec {
  if (options.ladder) {
    return { version: FEATURE_SPEC_VERSION, stateSet: "ladder", hashFunction: "fnv1a32", hashBuckets, taskFeatures: [], stateFeatures: [...LADDER_STATE_FEATURES], size: LADDER_STATE_FEATURES.length };
  }
  const taskFeatures = options.taskText === false ? [] : [...BASE_TASK_FEATURES, ...Array.from({ length: hashBuckets }, (_, i) => `spec_word_bucket_${i}`)];
  return {
    version: FEATURE_SPEC_VERSION,
    hashFunction: "fnv1a32",
    hashBuckets,
    taskFeatures,
    stateFeatures: [...STATE_FEATURES],
    size: taskFeatures.length + STATE_FEATURES.length,
  };
}

/** The state at the start of an episode, before the mode is chosen. */
export function initialEpisodeState(): EpisodeState {
  return {
    mode: null,
    steps: 0,
    lastAgent: null,
    agentCounts: { Planner: 0, Coder: 0, Tester: 0, Debugger: 0, Reviewer: 0 },
    visiblePassFraction: 0,
    visibleTestsRun: false,
    tokens: 0,
    costUsd: 0,
    lastStepTokens: 0,
    lastStepCostUsd: 0,
    rung: 0,
    rungs: 1,
    testerTests: 0,
    review: "none",
    codeRaises: false,
    ladderCosts: null,
  };
}

/** Task features, in spec.taskFeatures order. Pure function of the task text. */
export function taskFeatures(task: PublicTask, spec: FeatureSpec): Float32Array {
  if (spec.taskFeatures.length === 0) return new Float32Array(0);
  const facts = readTaskFacts(task);
  const values: number[] = [
    squash(task.prompt.length, SCALE.promptChars),
    squash(task.prompt.split("\n").length, SCALE.promptLines),
    squash(facts.specWords.length, SCALE.specWords),
    cap(facts.parameterCount, 6),
    cap(task.visibleExamples.length, 10),
    cap(facts.helperFunctions, 3),
    cap(facts.imports, 5),
    facts.hasTypeHints ? 1 : 0,
    ...RETURN_TYPES.map((type) => (type === facts.returnType ? 1 : 0)),
    ...hashedWordBuckets(facts.specWords, spec.hashBuckets),
  ];
  return Float32Array.from(values);
}

/** Episode-state features, in spec.stateFeatures order. */
export function episodeStateFeatures(state: EpisodeState): Float32Array {
  const budget = state.mode === null ? MAX_AGENT_STEPS : MODE_RULES[state.mode].maxAgentSteps;
  const values: number[] = [
    state.mode === null ? 1 : 0,
    ...MODES.map((mode) => (state.mode === mode ? 1 : 0)),
    cap(state.steps, MAX_AGENT_STEPS),
    Math.max(0, budget - state.steps) / budget,
    state.lastAgent === null ? 1 : 0,
    ...AGENTS.map((agent) => (state.lastAgent === agent ? 1 : 0)),
    ...AGENTS.map((agent) => cap(state.agentCounts[agent], 3)),
    clamp01(state.visiblePassFraction),
    state.visibleTestsRun ? 1 : 0,
    squash(state.tokens, SCALE.tokens),
    squash(state.costUsd, SCALE.dollars),
    squash(state.lastStepTokens, SCALE.stepTokens),
    state.rungs > 1 ? state.rung / (state.rungs - 1) : 0,
    state.rung < state.rungs - 1 ? 1 : 0,
    squash(state.testerTests, SCALE.testerTests),
    state.review === "accepted" ? 1 : 0,
    state.review === "rejected" ? 1 : 0,
    state.codeRaises ? 1 : 0,
  ];
  return Float32Array.from(values);
}

/**
 * The ladder features, in LADDER_STATE_FEATURES order. Without a price list the rungs are taken
 * as evenly spaced up to the dearest (rung fraction) and nothing spent is known to be a share.
 */
export function ladderStateFeatures(state: EpisodeState): Float32Array {
  const costs = state.ladderCosts;
  const dearest = costs ? Math.max(...costs.perRung, 0) : 0;
  const share = (rung: number): number => (costs && dearest > 0 ? (costs.perRung[rung] ?? 0) / dearest : state.rungs > 1 ? rung / (state.rungs - 1) : 1);
  const spent = costs && dearest > 0 ? (costs.unit === "usd" ? state.costUsd : state.tokens) / dearest : 0;
  const canEscalate = state.rung < state.rungs - 1;
  const values: number[] = [
    state.mode === null ? 1 : 0,
    state.rungs > 1 ? state.rung / (state.rungs - 1) : 0,
    canEscalate ? 1 : 0,
    state.mode === null ? 0 : share(state.rung),
    canEscalate ? share(state.rung + 1) : 0,
    cap(spent, 2),
    // How hard the rung found the task: its last step against the rung's mean cost (a long answer is a hard task's), capped at three times.
    costs && state.mode !== null && (costs.perRung[state.rung] ?? 0) > 0 ? cap((costs.unit === "usd" ? state.lastStepCostUsd : state.lastStepTokens) / costs.perRung[state.rung]!, 3) : 0,
    clamp01(state.visiblePassFraction),
    state.visibleTestsRun ? 1 : 0,
    state.visibleTestsRun && (state.visiblePassFraction < 1 || state.codeRaises) ? 1 : 0,
    state.codeRaises ? 1 : 0,
    state.review === "accepted" ? 1 : 0,
    state.review === "rejected" ? 1 : 0,
    squash(state.testerTests, SCALE.testerTests),
  ];
  return Float32Array.from(values);
}

/** The network's input: task features then episode-state features (the spec's set of them). */
export function featureVector(taskPart: Float32Array, state: EpisodeState, spec: FeatureSpec): Float32Array {
  const statePart = spec.stateSet === "ladder" ? ladderStateFeatures(state) : episodeStateFeatures(state);
  if (taskPart.length + statePart.length !== spec.size) {
    throw new Error(`feature vector has ${taskPart.length + statePart.length} values, spec expects ${spec.size}`);
  }
  const vector = new Float32Array(spec.size);
  vector.set(taskPart, 0);
  vector.set(statePart, taskPart.length);
  return vector;
}

/** First field where two specs differ, or null when they are the same. */
export function featureSpecDifference(actual: FeatureSpec, expected: FeatureSpec): string | null {
  if (actual.version !== expected.version) return `feature version ${actual.version} (this koderz computes version ${expected.version})`;
  if (actual.hashFunction !== expected.hashFunction) return `hash function ${actual.hashFunction} (expected ${expected.hashFunction})`;
  if (actual.stateSet !== expected.stateSet) return `state features "${actual.stateSet ?? "episode"}" (expected "${expected.stateSet ?? "episode"}")`;
  if (actual.hashBuckets !== expected.hashBuckets) return `${actual.hashBuckets} hash buckets (expected ${expected.hashBuckets})`;
  for (const key of ["taskFeatures", "stateFeatures"] as const) {
    const a = actual[key];
    const b = expected[key];
    if (a.length !== b.length) return `${a.length} ${key} (expected ${b.length})`;
    const i = a.findIndex((name, index) => name !== b[index]);
    if (i >= 0) return `${key}[${i}] = "${a[i]}" (expected "${b[i]}")`;
  }
  if (actual.size !== expected.size) return `size ${actual.size} (expected ${expected.size})`;
  return null;
}

interface TaskFacts {
  specWords: string[];
  parameterCount: number;
  helperFunctions: number;
  imports: number;
  hasTypeHints: boolean;
  returnType: ReturnType;
}

function readTaskFacts(task: PublicTask): TaskFacts {
  const signature = findSignature(task.prompt, task.entryPoint);
  const parameters = signature ? splitTopLevel(signature.parameters).filter((p) => !["", "self", "*", "/"].includes(p)) : [];
  const definitions = task.prompt.match(/^\s*def\s+\w+/gm)?.length ?? 0;
  return {
    specWords: specificationWords(task.prompt),
    parameterCount: parameters.length,
    helperFunctions: Math.max(0, definitions - 1),
    imports: task.prompt.match(/^\s*(import|from)\s+\w+/gm)?.length ?? 0,
    hasTypeHints: parameters.some((p) => p.includes(":")) || Boolean(signature?.returnAnnotation),
    returnType: classifyReturnType(signature?.returnAnnotation),
  };
}

/** One compiled pattern per entry point: the simulator asks for the same few names ten thousand times. */
const definitionPatterns = new Map<string, RegExp>();

function findSignature(prompt: string, entryPoint: string): { parameters: string; returnAnnotation?: string } | null {
  let definition = definitionPatterns.get(entryPoint);
  if (!definition) {
    definition = new RegExp(`def\\s+${escapeRegExp(entryPoint)}\\s*\\(`);
    definitionPatterns.set(entryPoint, definition);
  }
  const start = prompt.search(definition);
  if (start < 0) return null;
  const open = prompt.indexOf("(", start);
  let depth = 0;
  for (let i = open; i < prompt.length; i++) {
    const ch = prompt[i];
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if (ch === ")" || ch === "]" || ch === "}") depth--;
    if (depth === 0) {
      const annotation = /^\s*->\s*([^:\n]+?)\s*:/.exec(prompt.slice(i + 1))?.[1];
      return { parameters: prompt.slice(open + 1, i), returnAnnotation: annotation };
    }
  }
  return null;
}

/** Splits on commas that are not inside brackets, so `a: Dict[str, int], b` is two parameters. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(" || ch === "[" || ch === "{") depth++;
    if (ch === ")" || ch === "]" || ch === "}") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current.trim());
      current = "";
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

function classifyReturnType(annotation: string | undefined): ReturnType {
  if (!annotation) return "none";
  const head = /^[A-Za-z_]+/.exec(annotation.trim().replace(/^typing\./, ""))?.[0]?.toLowerCase() ?? "";
  if (head === "none") return "none";
  return (RETURN_TYPES as readonly string[]).includes(head) ? (head as ReturnType) : "other";
}

/** Words of the docstring prose: `>>>` example lines and the expected-value lines after them are not specification. */
function specificationWords(prompt: string): string[] {
  const docstring = /("""|''')([\s\S]*?)(\1|$)/.exec(prompt)?.[2] ?? "";
  const lines = docstring.split("\n");
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim().startsWith(">>>")) {
      i++; // the expected value follows the call
      continue;
    }
    prose.push(lines[i]!);
  }
  return prose.join(" ").toLowerCase().match(/[a-z]{2,}/g) ?? [];
}

/** Bag of words hashed into a fixed number of buckets, L2-normalised so prompt length does not scale it. */
function hashedWordBuckets(words: string[], buckets: number): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const word of words) counts[fnv1a32(word) % buckets]! += 1;
  const norm = Math.sqrt(counts.reduce((sum, c) => sum + c * c, 0));
  return norm > 0 ? counts.map((c) => c / norm) : counts;
}

function squash(value: number, scale: number): number {
  return value <= 0 ? 0 : value / (value + scale);
}

function cap(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max) / max;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
