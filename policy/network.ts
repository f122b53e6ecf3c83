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
 * Weights come from our own seeded generator (not tf.layers initialisers), so the same seed
 * gives the same network on every backend and a policy file is just named float32 arrays (a
 * kernel and a bias per layer and head, weightShapes()). Inside, they are one flat tf.Variable
 * and the heads share one product: training is hundreds of small gradient steps, each paying a
 * fixed cost per backend operation, so fewer operations is most of the speed (see layer()).
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
    /** Every weight in one flat variable, laid out as parameterLayout() says. */
    private parameters: tf.Variable | null,
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
    const weight = (name: string): Float32Array => {
      const values = named.get(name);
      if (!values) throw new Error(`missing weight ${name}`);
      return values;
    };
    const widths = headWidths(architecture);
    const hidden = architecture.hiddenSizes.at(-1) ?? architecture.inputSize;
    const parts = new Map<string, Float32Array>();
    for (const { name } of weightShapes(architecture)) if (name.startsWith("trunk.")) parts.set(name, weight(name));
    parts.set(HEADS_KERNEL, joinColumns(HEADS.map((head) => weight(`${head}.kernel`)), widths, hidden));
    parts.set(HEADS_BIAS, joinColumns(HEADS.map((head) => weight(`${head}.bias`)), widths, 1));
    const layout = parameterLayout(architecture);
    const flat = new Float32Array(sum(layout.map((part) => part.size)));
    let offset = 0;
    for (const part of layout) {
      flat.set(parts.get(part.name)!, offset);
      offset += part.size;
    }
    const initial = tf.tensor1d(flat, "float32");
    const parameters = tf.variable(initial, true, undefined, "float32");
    initial.dispose(); // the variable keeps its own reference to the data
    return new PolicyNetwork(architecture, parameters);
  }

  /**
   * What training updates: one flat variable. The optimizer's update and the gradient clipping
   * are per element, so one variable gives the same step as ten, in a tenth of the operations
   * (Adam runs some fifteen backend operations per variable per step).
   */
  get trainableVariables(): tf.Variable[] {
    return [this.variable()];
  }

  /** Forward pass on a [batch, inputSize] tensor. Call inside tf.tidy or dispose the outputs. */
  forward(inputs: tf.Tensor2D): NetworkOutputs {
    const weights = this.weightTensors();
    let hidden: tf.Tensor2D = inputs;
    this.architecture.hiddenSizes.forEach((_, i) => {
      const kernel = weights.get(`trunk.${i}.kernel`)!;
      const bias = weights.get(`trunk.${i}.bias`)!;
      // The features are data, not weights: nothing needs their gradient.
      hidden = layer(hidden, kernel, bias, { tanh: true, inputGradient: i > 0 });
    });
    // The three heads are one product, split after: a third of the operations per step.
    const [modeLogits, agentLogits, values] = tf.split(layer(hidden, weights.get(HEADS_KERNEL)!, weights.get(HEADS_BIAS)!, { tanh: false, inputGradient: this.architecture.hiddenSizes.length > 0 }), headWidths(this.architecture), 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
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
    const flat = this.variable().dataSync() as Float32Array;
    const parts = new Map<string, Float32Array>();
    let offset = 0;
    for (const part of parameterLayout(this.architecture)) {
      parts.set(part.name, flat.slice(offset, offset + part.size));
      offset += part.size;
    }
    const out: NamedWeights = new Map();
    for (const [name, values] of parts) if (name.startsWith("trunk.")) out.set(name, values);
    const widths = headWidths(this.architecture);
    const kernels = splitColumns(parts.get(HEADS_KERNEL)!, widths);
    const biases = splitColumns(parts.get(HEADS_BIAS)!, widths);
    HEADS.forEach((head, i) => {
      out.set(`${head}.kernel`, kernels[i]!);
      out.set(`${head}.bias`, biases[i]!);
    });
    return out;
  }

  dispose(): void {
    this.parameters?.dispose();
    this.parameters = null;
  }

  private variable(): tf.Variable {
    if (!this.parameters) throw new Error("policy network used after dispose()");
    return this.parameters;
  }

  /** Each weight as a view of the flat variable (one split: its gradient is one concatenation). Inside tf.tidy. */
  private weightTensors(): Map<string, tf.Tensor> {
    const layout = parameterLayout(this.architecture);
    const pieces = tf.split(this.variable(), layout.map((part) => part.size));
    return new Map(layout.map((part, i) => [part.name, tf.reshape(pieces[i]!, part.shape)]));
  }
}

/**
 * The heads, in the order their columns sit side by side in one kernel and one bias (the
 * network's own layout; policy files keep a kernel and a bias per head, as weightShapes() says).
 */
const HEADS = ["mode", "agent", "value"] as const;
const HEADS_KERNEL = "heads.kernel";
const HEADS_BIAS = "heads.bias";

/** The network's own weights (the trunk's, and the heads' joined) in the order the flat variable holds them. */
function parameterLayout(architecture: NetworkArchitecture): { name: string; shape: number[]; size: number }[] {
  const widths = headWidths(architecture);
  const hidden = architecture.hiddenSizes.at(-1) ?? architecture.inputSize;
  const parts = [
    ...weightShapes(architecture).filter(({ name }) => name.startsWith("trunk.")),
    { name: HEADS_KERNEL, shape: [hidden, sum(widths)] },
    { name: HEADS_BIAS, shape: [sum(widths)] },
  ];
  return parts.map(({ name, shape }) => ({ name, shape, size: shape.reduce((a, b) => a * b, 1) }));
}

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
 * One layer, tanh(x·W + b) or x·W + b, with its gradient written out on plain products. Both
 * are measured choices for the wasm backend at this network's shapes (512 rows, 77 → 64 → 64):
 * - tfjs's own matMul gradient multiplies by transposed operands (transposeA / transposeB),
 *   which wasm runs on a slow path: 7–10 ms a product against 1.3–1.9 ms after an explicit
 *   tf.transpose;
 * - wasm's tanh is scalar (about 5× its sigmoid per element), while a product, its bias and a
 *   sigmoid are one fused operation; tanh(z) = 2·σ(2z) − 1.
 * `inputGradient` false: the layer reads the network's inputs (data, not trained), so the
 * product for their gradient is skipped. Same function, same gradient, to float rounding.
 */
function layer(x: tf.Tensor2D, kernel: tf.Tensor, bias: tf.Tensor, options: { tanh: boolean; inputGradient: boolean }): tf.Tensor2D {
  const differentiated = tf.customGrad<tf.Tensor2D>((...operands) => {
    // The operands are (x, W, b, save), or (W, b, save) when x takes no gradient (then x is the caller's).
    const [input, weights, offset, save] = (options.inputGradient ? operands : [x, ...operands]) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const output: tf.Tensor2D = options.tanh
      ? tf.sub<tf.Tensor2D>(tf.mul(tf.fused.matMul({ a: input, b: tf.mul<tf.Tensor2D>(weights, 2), bias: tf.mul(offset, 2), activation: "sigmoid" }), 2), 1)
      : (tf.fused.matMul({ a: input, b: weights, bias: offset }) as tf.Tensor2D);
    // The forward pass's intermediates are disposed before the backward pass: what the gradient reads is saved.
    save([input, weights, output]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [input, w, y] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const dz = options.tanh ? tf.mul<tf.Tensor2D>(dy, tf.sub(1, tf.square(y))) : dy;
        // The bias gradient as a product with a row of ones: wasm's sum over rows transposes first.
        const dBias = tf.reshape(tf.matMul(tf.ones([1, dz.shape[0]]), dz), [dz.shape[1]]);
        const dWeights = tf.matMul(tf.transpose(input), dz);
        return options.inputGradient ? [tf.matMul(dz, tf.transpose(w)), dWeights, dBias] : [dWeights, dBias];
      },
    };
  });
  return options.inputGradient ? differentiated(x, kernel, bias) : differentiated(kernel, bias);
}
