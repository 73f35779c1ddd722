/**
 * A small DSL for writing ONNX graphs: named scopes give torch-exporter-like
 * node names (`/text/blocks.0/attn/MatMul`), shape constants are deduplicated
 * initializers, and weights are `TensorSource`s written later by the writer.
 */
import { DataType, type DataTypeId } from '../onnx/onnx-proto.ts';
import { constantTensor, type TensorSource } from './tensor-source.ts';

/** A fixed size, or the name of a dynamic axis. */
export type Dim = number | string;

export interface ValueInfoSpec {
  readonly name: string;
  readonly elemType: DataTypeId;
  readonly dims: readonly Dim[];
}

export type AttributeValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'tensor'; readonly value: TensorSource };

export const attr = {
  int: (value: number): AttributeValue => ({ type: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value }),
  tensor: (value: TensorSource): AttributeValue => ({ type: 'tensor', value }),
};

export interface NodeSpec {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface InitializerSpec {
  readonly name: string;
  readonly source: TensorSource;
}

export interface GraphSpec {
  readonly name: string;
  readonly nodes: readonly NodeSpec[];
  readonly inputs: readonly ValueInfoSpec[];
  readonly outputs: readonly ValueInfoSpec[];
  readonly initializers: readonly InitializerSpec[];
}

export interface OpOptions {
  /** Names for the outputs (graph outputs); otherwise `<node>_output_<i>`. */
  readonly outputs?: readonly string[];
  /** Number of outputs when they are not named (default 1). */
  readonly count?: number;
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly inputs: ValueInfoSpec[] = [];
  private readonly outputs: ValueInfoSpec[] = [];
  private readonly initializers: InitializerSpec[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private readonly scopes: string[] = [];

  constructor(private readonly name: string) {}

  input(name: string, elemType: DataTypeId, dims: readonly Dim[]): string {
    this.define(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  /** Declares an existing value (normally named through `OpOptions.outputs`) as a graph output. */
  output(name: string, elemType: DataTypeId, dims: readonly Dim[]): void {
    if (!this.values.has(name)) throw new Error(`graph output ${name} is not produced by the graph`);
    this.outputs.push({ name, elemType, dims });
  }

  initializer(name: string, source: TensorSource): string {
    this.define(name);
    this.initializers.push({ name, source });
    return name;
  }

  /** An int64 constant (deduplicated); `dims` defaults to a 1-D tensor, `[]` gives a scalar. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:[${dims.join(',')}]:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const label = values.map((v) => (v < 0 ? `m${-v}` : String(v))).join('_');
    const shape = dims.length === 0 ? '_scalar' : dims.length === 1 ? '' : `_${dims.join('x')}`;
    const name = this.initializer(
      `const_i64${shape}_${label}`,
      constantTensor(DataType.INT64, dims, values),
    );
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant (deduplicated). */
  float(value: number): string {
    const key = `f32:${Object.is(value, -0) ? '-0' : String(Math.fround(value))}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.initializer(`const_f32_${this.constants.size}`, constantTensor(DataType.FLOAT, [], [value]));
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node and returns its output value names. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    options: OpOptions = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.values.has(input)) throw new Error(`${opType}: unknown input ${input}`);
    }
    const name = this.nodeName(opType);
    const outputs = options.outputs ?? Array.from({ length: options.count ?? 1 }, (_, i) => `${name}_output_${i}`);
    for (const output of outputs) this.define(output);
    this.nodes.push({ name, opType, inputs, outputs, attributes });
    return [...outputs];
  }

  /** `op` for single-output nodes. */
  op1(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
    outputName?: string,
  ): string {
    const [output] = this.op(opType, inputs, attributes, outputName === undefined ? {} : { outputs: [outputName] });
    if (output === undefined) throw new Error(`${opType} produced no output`);
    return output;
  }

  /** Runs `body` with `name` appended to the node-name scope. */
  scope<T>(name: string, body: () => T): T {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  build(): GraphSpec {
    if (this.outputs.length === 0) throw new Error(`graph ${this.name} has no outputs`);
    return {
      name: this.name,
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers],
    };
  }

  private define(name: string): void {
    if (this.values.has(name)) throw new Error(`value ${name} is defined twice`);
    this.values.add(name);
  }

  private nodeName(opType: string): string {
    const base = `/${[...this.scopes, opType].join('/')}`;
    const seen = this.nodeNames.get(base) ?? 0;
    this.nodeNames.set(base, seen + 1);
    return seen === 0 ? base : `${base}_${seen}`;
  }
}
