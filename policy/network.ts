import * as tf from "@tensorflow/tfjs";
import { AGENT_CHOICES, MODES } from "./actions.js";
import { createPrng } from "./prng.js";

/**
 * The policy network: a shared trunk (tanh MLP) and three heads on it:
 *   mode head  -> logits over fast / standard / deep (first decision of an episode),
 *   agent head -> logits over Planner, Coder, Tester, Debugger, Reviewer, Stop,
 *   value head -> the expected return from here (the learned baseline of actor-critic).
 * One trunk, because what makes a task hard matters to all three.
 *
 * Weights are plain tf.Variables created from our own seeded generator (not tf.layers
 * initialisers), so the same seed gives the same network on every backend and a policy
 * file is just named float32 arrays.
 */
export interface NetworkArchitecture {
  inputSize: number;
  hiddenSizes: number[];
  activation: "tanh";
  modeOutputs: string[];
  agentOutputs: string[];
}

export interface WeightShape {
  name: string;
  shape: number[];
}

export type NamedWeights = Map<string, Float32Array>;

export interface NetworkOutputs {
  modeLogits: tf.Tensor2D;
  agentLogits: tf.Tensor2D;
  values: tf.Tensor1D;
}

/** Logits and values read back to JavaScript, row-major: row r of a head is [r*width, (r+1)*width). */
export interface BatchOutputs {
  modeLogits: Float32Array;
  agentLogits: Float32Array;
  values: Float32Array;
}

export function defaultArchitecture(inputSize: number, hiddenSizes: number[] = [64, 64]): NetworkArchitecture {
  return { inputSize, hiddenSizes, activation: "tanh", modeOutputs: [...MODES], agentOutputs: [...AGENT_CHOICES] };
}

/** Every weight's name and shape, in a fixed order; a policy file must match it exactly. */
export function weightShapes(architecture: NetworkArchitecture): WeightShape[] {
  const shapes: WeightShape[] = [];
  let width = architecture.inputSize;
  architecture.hiddenSizes.forEach((hidden, i) => {
    shapes.push({ name: `trunk.${i}.kernel`, shape: [width, hidden] }, { name: `trunk.${i}.bias`, shape: [hidden] });
    width = hidden;
  });
  const heads: [string, number][] = [
    ["mode", architecture.modeOutputs.length],
    ["agent", architecture.agentOutputs.length],
    ["value", 1],
  ];
  for (const [head, outputs] of heads) {
    shapes.push({ name: `${head}.kernel`, shape: [width, outputs] }, { name: `${head}.bias`, shape: [outputs] });
  }
  return shapes;
}

export class PolicyNetwork {
  private constructor(
    readonly architecture: NetworkArchitecture,
    private readonly weights: Map<string, tf.Variable>,
  ) {}

  /**
   * Glorot-uniform trunk; policy heads scaled down 100× so the first policy is close to
   * uniform (every action gets explored); value head at full scale.
   */
  static initialise(architecture: NetworkArchitecture, seed: number): PolicyNetwork {
    const rng = createPrng(seed);
    const initial: NamedWeights = new Map();
    for (const { name, shape } of weightShapes(architecture)) {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (name.endsWith(".kernel")) {
        const [fanIn, fanOut] = shape as [number, number];
        const limit = Math.sqrt(6 / (fanIn + fanOut)) * (name.startsWith("mode.") || name.startsWith("agent.") ? 0.01 : 1);
        for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
      }
      initial.set(name, values);
    }
    return PolicyNetwork.fromWeights(architecture, initial);
  }

  /** Builds the network from named weights whose shapes were already checked against weightShapes(). */
  static fromWeights(architecture: NetworkArchitecture, named: NamedWeights): PolicyNetwork {
    const variable = (values: Float32Array, shape: number[]): tf.Variable => {
      const initial = tf.tensor(values, shape, "float32");
      const created = tf.variable(initial, true, undefined, "float32");
      initial.dispose(); // the variable keeps its own reference to the data
      return created;
    };
    const weight = (name: string): Float32Array => {
      const values = named.get(name);
      if (!values) throw new Error(`missing weight ${name}`);
      return values;
    };
    const trunk = weightShapes(architecture).filter(({ name }) => name.startsWith("trunk."));
    const variables = new Map<string, tf.Variable>(trunk.map(({ name, shape }) => [name, variable(weight(name), shape)]));
    const widths = headWidths(architecture);
    const hidden = architecture.hiddenSizes.at(-1) ?? architecture.inputSize;
    variables.set(HEADS_KERNEL, variable(joinColumns(HEADS.map((head) => weight(`${head}.kernel`)), widths, hidden), [hidden, sum(widths)]));
    variables.set(HEADS_BIAS, variable(joinColumns(HEADS.map((head) => weight(`${head}.bias`)), widths, 1), [sum(widths)]));
    return new PolicyNetwork(architecture, variables);
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** Forward pass on a [batch, inputSize] tensor. Call inside tf.tidy or dispose the outputs. */
  forward(inputs: tf.Tensor2D): NetworkOutputs {
    let hidden: tf.Tensor2D = inputs;
    this.architecture.hiddenSizes.forEach((_, i) => {
      const kernel = this.weight(`trunk.${i}.kernel`);
      const bias = this.weight(`trunk.${i}.bias`);
      // The features are data, not weights: nothing needs their gradient.
      hidden = tf.tanh(i === 0 ? denseOnInputs(hidden, kernel, bias) : dense(hidden, kernel, bias)) as tf.Tensor2D;
    });
    // The three heads are one product, split after: a third of the operations per step.
    const [modeLogits, agentLogits, values] = tf.split(dense(hidden, this.weight(HEADS_KERNEL), this.weight(HEADS_BIAS)), headWidths(this.architecture), 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    return { modeLogits, agentLogits, values: tf.reshape(values, [-1]) };
  }

  /** Runs a batch of feature rows and reads the outputs back to JavaScript. */
  run(rows: readonly Float32Array[]): BatchOutputs {
    const input = new Float32Array(rows.length * this.architecture.inputSize);
    rows.forEach((row, r) => input.set(row, r * this.architecture.inputSize));
    const [modeLogits, agentLogits, values] = tf.tidy(() => {
      const out = this.forward(tf.tensor2d(input, [rows.length, this.architecture.inputSize]));
      return [out.modeLogits, out.agentLogits, out.values];
    });
    const result = {
      modeLogits: modeLogits.dataSync() as Float32Array,
      agentLogits: agentLogits.dataSync() as Float32Array,
      values: values.dataSync() as Float32Array,
    };
    tf.dispose([modeLogits, agentLogits, values]);
    return result;
  }

  /** A copy of every weight, for saving or for a frozen snapshot: named as weightShapes() names them. */
  readWeights(): NamedWeights {
    const out: NamedWeights = new Map();
    for (const [name, variable] of this.weights) {
      if (name.startsWith("trunk.")) out.set(name, Float32Array.from(variable.dataSync() as Float32Array));
    }
    const widths = headWidths(this.architecture);
    const kernels = splitColumns(this.weight(HEADS_KERNEL).dataSync() as Float32Array, widths);
    const biases = splitColumns(this.weight(HEADS_BIAS).dataSync() as Float32Array, widths);
    HEADS.forEach((head, i) => {
      out.set(`${head}.kernel`, kernels[i]!);
      out.set(`${head}.bias`, biases[i]!);
    });
    return out;
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
    this.weights.clear();
  }

  private weight(name: string): tf.Variable {
    const variable = this.weights.get(name);
    if (!variable) throw new Error(`policy network has no weight ${name} (disposed?)`);
    return variable;
  }
}

/**
 * The heads, in the order their columns sit side by side in one kernel and one bias (the
 * network's own layout; policy files keep a kernel and a bias per head, as weightShapes() says).
 */
const HEADS = ["mode", "agent", "value"] as const;
const HEADS_KERNEL = "heads.kernel";
const HEADS_BIAS = "heads.bias";

function headWidths(architecture: NetworkArchitecture): number[] {
  return [architecture.modeOutputs.length, architecture.agentOutputs.length, 1];
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Row-major matrices of `rows` rows and these widths, side by side in one. */
function joinColumns(parts: readonly Float32Array[], widths: readonly number[], rows: number): Float32Array {
  const total = sum(widths);
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let column = 0;
    parts.forEach((part, i) => {
      out.set(part.subarray(r * widths[i]!, (r + 1) * widths[i]!), r * total + column);
      column += widths[i]!;
    });
  }
  return out;
}

/** joinColumns undone. */
function splitColumns(joined: Float32Array, widths: readonly number[]): Float32Array[] {
  const total = sum(widths);
  const rows = joined.length / total;
  let column = 0;
  return widths.map((width) => {
    const part = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) part.set(joined.subarray(r * total + column, r * total + column + width), r * width);
    column += width;
    return part;
  });
}

/**
 * x·W + b, with its gradient written out on plain (untransposed) matrix products. tfjs's own
 * matMul gradient multiplies by transposed operands (transposeA / transposeB), which the wasm
 * backend runs on a slow path: for this network's shapes (512 rows, 77 → 64) a product with a
 * transposed operand took 7–10 ms against 1.3–1.9 ms for the same product after an explicit
 * tf.transpose. Same values, same gradient.
 */
function dense(x: tf.Tensor2D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const layer = tf.customGrad<tf.Tensor2D>((...operands) => {
    const [input, weights, offset, save] = operands as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    // The forward pass's intermediates are disposed before the backward pass: what the gradient reads is saved.
    save([input, weights]);
    return {
      value: tf.add<tf.Tensor2D>(tf.matMul(input, weights), offset),
      gradFunc: (dy: tf.Tensor2D, [x, w]: tf.Tensor[]) => [tf.matMul(dy, tf.transpose(w!)), tf.matMul(tf.transpose(x!), dy), tf.sum(dy, 0)],
    };
  });
  return layer(x, kernel, bias);
}

/** dense() on the network's inputs: gradients for the weights only (the inputs are data, not trained), one product fewer per step. */
function denseOnInputs(x: tf.Tensor2D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const layer = tf.customGrad<tf.Tensor2D>((...operands) => {
    const [weights, offset] = operands as [tf.Tensor2D, tf.Tensor1D];
    // x lives outside the gradient's forward pass (the caller's input), so it is still there for the backward one.
    return {
      value: tf.add<tf.Tensor2D>(tf.matMul(x, weights), offset),
      gradFunc: (dy: tf.Tensor2D) => [tf.matMul(tf.transpose(x), dy), tf.sum(dy, 0)],
    };
  });
  return layer(kernel, bias);
}
