import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { KoderzError } from "../src/errors.js";
import { AGENT_CHOICES, MODES } from "./actions.js";
import { useBackend, type BackendChoice } from "./backend.js";
import { buildFeatureSpec, featureSpecDifference, type FeatureSpec } from "./features.js";
import { MetaPolicy } from "./meta-policy.js";
import type { Router } from "./router.js";
import { cascadeRuleSchema, RulePolicy, ruleName, type CascadeRule } from "./rule-policy.js";
import { PolicyNetwork, weightShapes, type NamedWeights, type NetworkArchitecture } from "./network.js";

/**
 * A policy file: one JSON document carrying the feature spec, the architecture, the
 * weights (float32, little-endian, base64) and how it was trained. Everything is checked
 * on load, so a stale or damaged file is refused with what is wrong, never half-used.
 */
export const POLICY_FILE_FORMAT = "koderz-policy";
/**
 * Version 2 holds either a network (with, for an ensemble, the other members' weights) or a
 * rule (`"kind": "rule"`); version 1 files (one network) still load.
 */
export const POLICY_FILE_VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];

const featureSpecSchema = z.object({
  version: z.number().int(),
  stateSet: z.literal("ladder").optional(),
  hashFunction: z.literal("fnv1a32"),
  hashBuckets: z.number().int().positive(),
  taskFeatures: z.array(z.string()),
  stateFeatures: z.array(z.string()),
  size: z.number().int().positive(),
});

const architectureSchema = z.object({
  inputSize: z.number().int().positive(),
  hiddenSizes: z.array(z.number().int().positive()).min(1),
  activation: z.literal("tanh"),
  modeOutputs: z.array(z.string()),
  agentOutputs: z.array(z.string()),
});

const weightSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  encoding: z.literal("float32-le-base64"),
  data: z.string(),
});

export const trainingMetadataSchema = z.object({
  /** Where the experience came from; "synthetic" means the simulator, never real models. */
  env: z.enum(["synthetic", "replay", "live"]),
  synthetic: z.boolean(),
  episodes: z.number().int().nonnegative(),
  seed: z.number().int(),
  lambdaPer1000Tokens: z.number(),
  /** Reward lost per US dollar, when training counted dollars (absent: it counted tokens). */
  costPerUsd: z.number().nonnegative().optional(),
  backend: z.string(),
  trainedAt: z.string(),
  runs: z.array(z.string()).optional(),
  note: z.string().optional(),
  /** Escalate only at or above this probability (MetaPolicy.escalationThreshold), calibrated on the training tasks for `successFloor`. */
  escalationThreshold: z.number().min(0).max(1).optional(),
  /** The share of the dearest arm's success the threshold was chosen to keep. */
  successFloor: z.number().gt(0).max(1).optional(),
  /** Headline evaluation figures (e.g. fraction of oracle return), for `koderz report`. */
  summary: z.record(z.string(), z.number()).optional(),
});
export type TrainingMetadata = z.infer<typeof trainingMetadataSchema>;

const networkFileSchema = z.object({
  format: z.literal(POLICY_FILE_FORMAT),
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  kind: z.literal("network").optional(),
  featureSpec: featureSpecSchema,
  architecture: architectureSchema,
  weights: z.array(weightSchema),
  /** An ensemble's other members, each a full set of weights of the same architecture. */
  members: z.array(z.array(weightSchema)).optional(),
  training: trainingMetadataSchema,
});

const ruleFileSchema = z.object({
  format: z.literal(POLICY_FILE_FORMAT),
  formatVersion: z.literal(2),
  kind: z.literal("rule"),
  rule: cascadeRuleSchema,
  training: trainingMetadataSchema,
});

/** The validated content of a policy file, before any tensor exists. */
export type PolicyFileContent =
  | { kind: "network"; featureSpec: FeatureSpec; architecture: NetworkArchitecture; weights: NamedWeights; members: NamedWeights[]; training: TrainingMetadata }
  | { kind: "rule"; rule: CascadeRule; training: TrainingMetadata };

export interface LoadedPolicy {
  policy: Router;
  training: TrainingMetadata;
}

export function serializePolicy(policy: Router, training: TrainingMetadata): string {
  if (policy instanceof RulePolicy) {
    return JSON.stringify({ format: POLICY_FILE_FORMAT, formatVersion: POLICY_FILE_VERSION, kind: "rule", rule: policy.rule, training }, null, 1) + "\n";
  }
  if (!(policy instanceof MetaPolicy)) throw new Error("only a network or a rule policy can be saved");
  const encode = (network: PolicyNetwork): z.infer<typeof weightSchema>[] => {
    const weights = network.readWeights();
    return weightShapes(network.architecture).map(({ name, shape }) => ({ name, shape, encoding: "float32-le-base64" as const, data: encodeFloat32(weights.get(name)!) }));
  };
  const document = {
    format: POLICY_FILE_FORMAT,
    formatVersion: POLICY_FILE_VERSION,
    kind: "network",
    featureSpec: policy.featureSpec,
    architecture: policy.network.architecture,
    weights: encode(policy.network),
    ...(policy.networks.length > 1 ? { members: policy.networks.slice(1).map(encode) } : {}),
    training,
  };
  return JSON.stringify(document, null, 1) + "\n";
}

/** Writes through a temporary file and a rename, so a crash never leaves half a policy. */
export async function savePolicy(file: string, policy: Router, training: TrainingMetadata): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, serializePolicy(policy, training));
  await fs.rename(temporary, file);
}

export async function loadPolicy(file: string, options: { backend?: BackendChoice } = {}): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new KoderzError(
      missing ? "not_found" : "policy_file",
      missing ? `policy file ${file} does not exist` : `cannot read policy file ${file}: ${(error as Error).message}`,
      retrainHint(file),
    );
  }
  const content = parsePolicyFile(text, file);
  // A rule needs no tensors: tfjs is not even loaded for it.
  if (content.kind === "rule") return { policy: new RulePolicy(content.rule), training: content.training };
  await useBackend(options.backend ?? "auto");
  const network = PolicyNetwork.fromWeights(content.architecture, content.weights);
  const members = content.members.map((weights) => PolicyNetwork.fromWeights(content.architecture, weights));
  const policy = new MetaPolicy(content.featureSpec, network, members);
  policy.escalationThreshold = content.training.escalationThreshold;
  return { policy, training: content.training };
}

/** A network policy from a file, for what only a network can do (learning online, continuing training). */
export async function loadNetworkPolicy(file: string, options: { backend?: BackendChoice; purpose: string }): Promise<{ policy: MetaPolicy; training: TrainingMetadata }> {
  const loaded = await loadPolicy(file, options);
  if (loaded.policy instanceof MetaPolicy) return { policy: loaded.policy, training: loaded.training };
  throw new KoderzError(
    "bad_input",
    `policy file ${file} holds a rule (${ruleName((loaded.policy as RulePolicy).rule)}), not a network: ${options.purpose} needs a network`,
    "its training found the rule better out of sample; use it as it is (--mode auto --policy FILE), or train a network with `koderz train-meta`",
  );
}

/** Validates a policy file's text completely; throws KoderzError("policy_file") saying what is wrong. */
export function parsePolicyFile(text: string, source: string): PolicyFileContent {
  const fail = (what: string): never => {
    throw new KoderzError("policy_file", `policy file ${source} ${what}`, retrainHint(source));
  };

  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail(`is not valid JSON (${(error as Error).message}); it may be truncated or not a policy file`);
  }

  // Format and version first, so a file from another version says so rather than listing schema noise.
  const header = z.object({ format: z.unknown(), formatVersion: z.unknown() }).safeParse(raw);
  if (!header.success || header.data.format !== POLICY_FILE_FORMAT) {
    return fail(`is not a koderz policy file (expected "format": "${POLICY_FILE_FORMAT}")`);
  }
  if (!READABLE_VERSIONS.includes(header.data.formatVersion as number)) {
    return fail(`has format version ${JSON.stringify(header.data.formatVersion)}; this koderz reads versions ${READABLE_VERSIONS.join(" and ")}`);
  }

  if (z.object({ kind: z.literal("rule") }).safeParse(raw).success) {
    const rule = ruleFileSchema.safeParse(raw);
    if (!rule.success) {
      const issue = rule.error.issues[0]!;
      return fail(`has an invalid field ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
    return { kind: "rule", rule: rule.data.rule, training: rule.data.training };
  }

  const parsed = networkFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`has an invalid field ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const file = parsed.data;

  // A policy trained on the evidence only has no task features; the rest of its spec must still match.
  const expectedSpec = buildFeatureSpec(file.featureSpec.hashBuckets, { taskText: file.featureSpec.taskFeatures.length > 0, ladder: file.featureSpec.stateSet === "ladder" });
  const specDifference = featureSpecDifference(file.featureSpec, expectedSpec);
  if (specDifference) return fail(`was trained on different features: it has ${specDifference}`);

  const architecture = file.architecture;
  if (architecture.inputSize !== file.featureSpec.size) {
    return fail(`has a network input of ${architecture.inputSize} values but its feature spec has ${file.featureSpec.size}`);
  }
  if (!sameList(architecture.modeOutputs, MODES)) return fail(`has mode outputs [${architecture.modeOutputs}], expected [${MODES}]`);
  if (!sameList(architecture.agentOutputs, AGENT_CHOICES)) {
    return fail(`has agent outputs [${architecture.agentOutputs}], expected [${AGENT_CHOICES}]`);
  }

  const readWeights = (list: z.infer<typeof weightSchema>[], label: string): NamedWeights => {
    const weights: NamedWeights = new Map();
    const stored = new Map(list.map((w) => [w.name, w]));
    for (const { name, shape } of weightShapes(architecture)) {
      const weight = stored.get(name);
      if (!weight) return fail(`is missing ${label}weight ${name}`);
      if (!sameList(weight.shape, shape)) return fail(`has ${label}weight ${name} with shape [${weight.shape}], expected [${shape}] from its architecture`);
      const values = decodeFloat32(weight.data);
      if (typeof values === "string") return fail(`has ${label}weight ${name} whose data ${values}`);
      const expectedLength = shape.reduce((a, b) => a * b, 1);
      if (values.length !== expectedLength) return fail(`has ${label}weight ${name} with ${values.length} values, expected ${expectedLength}`);
      if (!values.every(Number.isFinite)) return fail(`has ${label}weight ${name} containing NaN or infinite values (training diverged?)`);
      weights.set(name, values);
      stored.delete(name);
    }
    if (stored.size > 0) return fail(`has unexpected ${label}weights: ${[...stored.keys()].join(", ")}`);
    return weights;
  };
  const weights = readWeights(file.weights, "");
  const members = (file.members ?? []).map((list, i) => readWeights(list, `ensemble member ${i + 2}'s `));

  return { kind: "network", featureSpec: file.featureSpec, architecture, weights, members, training: file.training };
}

function retrainHint(file: string): string {
  return `retrain it with \`koderz train-meta --episodes 10000 --out ${file}\``;
}

function sameList(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Little-endian explicitly, so a file written on any machine reads the same everywhere. */
function encodeFloat32(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString("base64");
}

/** The values, or what is wrong with the data. */
function decodeFloat32(data: string): Float32Array | string {
  // Buffer.from(..., "base64") silently skips bad characters; a damaged file must not load.
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return "is not valid base64";
  const bytes = Buffer.from(data, "base64");
  if (bytes.length % 4 !== 0) return `is ${bytes.length} bytes, not a whole number of float32 values (truncated?)`;
  const values = new Float32Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
  return values;
}
