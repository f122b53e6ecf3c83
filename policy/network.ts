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
    const variables = new Map<string, tf.Variable>();
    for (const { name, shape } of weightShapes(architecture)) {
      const values = named.get(name);
      if (!values) throw new Error(`missing weight ${name}`);
      const initial = tf.tensor(values, shape, "float32");
      variables.set(name, tf.variable(initial, true, undefined, "float32"));
      initial.dispose(); // the variable keeps its own reference to the data
    }
    return new PolicyNetwork(architecture, variables);
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** Forward pass on a [batch, inputSize] tensor. Call inside tf.tidy or dispose the outputs. */
  forward(inputs: tf.Tensor2D): NetworkOutputs {
    let hidden: tf.Tensor2D = inputs;
    this.architecture.hiddenSizes.forEach((_, i) => {
      hidden = tf.tanh(tf.add(tf.matMul(hidden, this.weight(`trunk.${i}.kernel`)), this.weight(`trunk.${i}.bias`))) as tf.Tensor2D;
    });
    const head = (name: string): tf.Tensor2D => tf.add(tf.matMul(hidden, this.weight(`${name}.kernel`)), this.weight(`${name}.bias`));
    return {
      modeLogits: head("mode"),
      agentLogits: head("agent"),
      values: tf.reshape(head("value"), [-1]),
    };
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

  /** A copy of every weight, for saving or for a frozen snapshot. */
  readWeights(): NamedWeights {
    const out: NamedWeights = new Map();
    for (const [name, variable] of this.weights) out.set(name, Float32Array.from(variable.dataSync() as Float32Array));
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
