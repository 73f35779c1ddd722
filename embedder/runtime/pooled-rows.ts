// Only one row per item leaves the last transformer block of a CLIP tower:
// the class token for an image (Gather(axis 1) of row 0) and the end-of-text
// token for a text (the [B, L, D] tensor flattened to [B·L, D], then row
// b·L + argmax gathered). Everything between the last step that mixes rows
// (attention) and that pooling works row by row: the output projection, the
// residual adds, the MLP, layer norms. This rewrite gathers the pooled row
// where those steps begin, so they run on one row per item instead of all L
// of them, and drops the full-size originals. For ViT-B/32 that is about 6%
// of the image tower's FLOPs, and for short texts a few percent.
//
// The edit is made on the protobuf wire: nodes are decoded to be analysed,
// new ones written, and every other byte (weights, fields outside the schema
// subset) copied as it was. Callers verify the result against the exported
// graph before using it (pooled-tower.ts).
import { AttributeType, DataType, decodeNode, encodeNode, FieldNumber, type NodeMessage as Node } from '../onnx/onnx-proto.ts';
import { concatBytes } from '../../common/bytes.ts';
import { fieldHeader, int64ToNumber, lengthDelimited, readFields, readPackedVarints, type WireField } from '../onnx/protobuf-wire.ts';

const SUFFIX = '@pooled';

const UNARY = new Set(['Sigmoid', 'Tanh', 'Erf', 'Relu', 'Sqrt', 'Reciprocal', 'Neg', 'Exp', 'Log', 'Abs', 'Gelu', 'Cast', 'Identity', 'Softplus']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

const utf8 = new TextDecoder();

export interface PooledRowsReport {
  /** Row-wise nodes that now run on the pooled row only. */
  nodes: number;
  /** Of which matrix multiplications. */
  matmuls: number;
}

/**
 * How a tower takes its one row per item: `row`, one fixed row of [B, L, D] (CLIP's class token, SigLIP's
 * last text position); `end-of-text`, a row per item found in the ids (CLIP's end-of-text token).
 */
export type PooledRowKind = 'row' | 'end-of-text';
export const POOLED_ROW_KINDS: readonly PooledRowKind[] = ['row', 'end-of-text'];

/**
 * The model with the pooled row gathered before the last block's row-wise steps, keeping only the
 * `embeddingOutput` graph output; or null when the graph does not have that shape, or pools another
 * way than the `accepted` kinds.
 */
export function gatherPooledRowEarly(
  model: Uint8Array,
  embeddingOutput: string,
  accepted: readonly PooledRowKind[] = POOLED_ROW_KINDS,
): { model: Uint8Array; report: PooledRowsReport } | null {
  const graph = readGraph(model);
  if (!graph) return null;
  const pooling = findPooling(graph, embeddingOutput);
  if (!pooling || !accepted.includes(pooling.flatten === undefined ? 'row' : 'end-of-text')) return null;
  const region = findRowWiseRegion(graph, pooling, embeddingOutput);
  if (!region) return null;
  const matmuls = region.nodes.filter((i) => graph.nodes[i]!.op_type === 'MatMul').length;
  return { model: rewrite(graph, pooling, region, embeddingOutput), report: { nodes: region.nodes.length, matmuls } };
}

/** The model's graph as far as the rewrite needs it: its wire fields, its nodes decoded, and how they connect. */
interface Graph {
  modelFields: WireField[];
  /** The ModelProto's graph field. */
  graphField: WireField;
  /** The GraphProto's fields, in order. */
  fields: WireField[];
  /** The node fields, in order, and their nodes decoded. */
  nodeFields: WireField[];
  nodes: Node[];
  /** Dims of the graph's constants (initializers and Constant nodes), by name. */
  dims: Map<string, number[]>;
  /** By tensor name, the nodes reading it / the node computing it. */
  consumers: Map<string, number[]>;
  producer: Map<string, number>;
}

/** Where the embedding takes its one row per batch item from the [B, L, D] tensor `pooled`. */
interface Pooling {
  /** The Gather node. */
  index: number;
  pooled: string;
  /** For the end-of-text pooling, the node flattening `pooled` to [B·L, D]. */
  flatten?: number;
}

/** The row-wise steps between the frontier and the pooling, which are to run on the pooled row only. */
interface RowWiseRegion {
  /** Node indices, in graph order. */
  nodes: number[];
  /** Tensors the region reads that stay computed in full (or graph inputs): each is gathered to its pooled row. */
  frontier: Set<string>;
  /** Shape nodes outside the region that read one of its tensors, re-pointed at a frontier tensor of the same shape. */
  rewiredShapes: Map<number, Node>;
}

function readGraph(model: Uint8Array): Graph | null {
  const modelFields = readFields(model);
  const graphField = modelFields.find((f) => f.no === FieldNumber.modelGraph && f.payload);
  if (!graphField?.payload) return null;
  const fields = readFields(graphField.payload);
  const nodeFields = fields.filter((f) => f.no === FieldNumber.graphNode && f.payload);
  const nodes = nodeFields.map((f) => decodeNode(f.payload!));
  // Control flow hides its inputs inside subgraphs; CLIP graphs have none, and this edit does not try.
  if (nodes.some((n) => n.attribute.some((a) => a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS))) return null;
  const consumers = new Map<string, number[]>();
  const producer = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), index]);
    for (const output of node.output) producer.set(output, index);
  });
  return { modelFields, graphField, fields, nodeFields, nodes, dims: constantDims(fields, nodes), consumers, producer };
}

/**
 * The pooling step, upstream of the embedding: Gather(axis 1) of one constant row (the class token),
 * or Gather(axis 0) of one row per batch item from the tensor flattened to [B·L, D] (the end-of-text
 * token, row b·L + argmax). Null unless there is exactly one.
 */
function findPooling({ nodes, dims, consumers, producer }: Graph, embeddingOutput: string): Pooling | null {
  const upstream = new Set<number>();
  const stack = [producer.get(embeddingOutput)];
  while (stack.length) {
    const index = stack.pop();
    if (index === undefined || upstream.has(index)) continue;
    upstream.add(index);
    for (const input of nodes[index]!.input) stack.push(producer.get(input));
  }
  const poolings: Pooling[] = [];
  for (const index of upstream) {
    const node = nodes[index]!;
    const [data, indices] = node.input as [string, string];
    if (node.op_type !== 'Gather' || !producer.has(data)) continue;
    const axis = intAttribute(node, 'axis') ?? 0;
    if (axis === 1 && dims.get(indices)?.length === 0) poolings.push({ index, pooled: data });
    if (axis === 0 && !dims.has(indices)) {
      const flattenIndex = producer.get(data)!;
      const flatten = nodes[flattenIndex]!;
      const mergesRows =
        (flatten.op_type === 'Flatten' && intAttribute(flatten, 'axis') === 2) ||
        (flatten.op_type === 'Reshape' && dims.get(flatten.input[1]!)?.join() === '2');
      if (mergesRows && producer.has(flatten.input[0]!) && consumers.get(data)?.length === 1)
        poolings.push({ index, pooled: flatten.input[0]!, flatten: flattenIndex });
    }
  }
  return poolings.length === 1 ? poolings[0]! : null;
}

/**
 * Walking back from the pooled tensor, the row-wise nodes whose every result only feeds the walk (or a
 * Shape, answered from a tensor of the same shape), and the tensors where the walk stops. Null when
 * the region holds no MatMul (not worth a rewrite) or a Shape cannot be answered.
 */
function findRowWiseRegion(graph: Graph, pooling: Pooling, embeddingOutput: string): RowWiseRegion | null {
  const { nodes, dims, consumers, producer } = graph;
  const reader = pooling.flatten ?? pooling.index;
  const region = new Set<number>();
  const wanted = new Set([pooling.pooled]);
  const frontier = new Set<string>();
  for (let index = reader - 1; index >= 0; index--) {
    const node = nodes[index]!;
    const outputs = node.output.filter((o) => wanted.has(o));
    if (outputs.length === 0) continue;
    const onlyFeedsRegion = node.output.every(
      (o) => o !== embeddingOutput && (consumers.get(o) ?? []).every((c) => region.has(c) || c === reader || isShape(nodes[c]!)),
    );
    if (onlyFeedsRegion && rowWise(node, dims)) {
      region.add(index);
      for (const input of node.input) if (input && !dims.has(input)) wanted.add(input);
    } else {
      for (const o of outputs) frontier.add(o);
    }
  }
  for (const name of wanted) if (!producer.has(name) && !dims.has(name)) frontier.add(name); // graph inputs
  const ordered = [...region].sort((a, b) => a - b);
  if (!ordered.some((i) => nodes[i]!.op_type === 'MatMul')) return null;
  const rewiredShapes = rewireShapes(graph, ordered, frontier);
  return rewiredShapes && { nodes: ordered, frontier, rewiredShapes };
}

/**
 * A Shape of a tensor that is no longer computed in full reads a frontier tensor of the same shape:
 * back through shape-keeping steps (norms, element-wise ops) to where the walk began. Null when one
 * has no such tensor.
 */
function rewireShapes({ nodes, dims, consumers, producer }: Graph, region: number[], frontier: Set<string>): Map<number, Node> | null {
  const inRegion = new Set(region);
  const sameShapeFrontier = (name: string): string | undefined => {
    for (let t: string | undefined = name; t !== undefined; ) {
      if (frontier.has(t)) return t;
      const index = producer.get(t);
      if (index === undefined || !inRegion.has(index) || ['MatMul', 'ReduceMean'].includes(nodes[index]!.op_type)) return undefined;
      t = nodes[index]!.input.find((i) => i && !dims.has(i));
    }
    return undefined;
  };
  const rewired = new Map<number, Node>();
  for (const index of region)
    for (const output of nodes[index]!.output)
      for (const consumer of consumers.get(output) ?? []) {
        if (inRegion.has(consumer) || !isShape(nodes[consumer]!)) continue;
        const twin = sameShapeFrontier(output);
        if (!twin) return null;
        rewired.set(consumer, { ...nodes[consumer]!, input: [twin] });
      }
  return rewired;
}

/**
 * The model with the region's nodes replaced by their one-row copies (at the pooling's place), and the
 * nodes and weights that no longer reach the embedding left out. Every other field is copied as it was.
 */
function rewrite(graph: Graph, pooling: Pooling, region: RowWiseRegion, embeddingOutput: string): Uint8Array {
  const { nodes, nodeFields } = graph;
  const added = pooledRowNodes(graph, pooling, region);

  // The full-size originals no longer reach the output: leave them out.
  const current = (index: number) => region.rewiredShapes.get(index) ?? nodes[index]!;
  const combined = [
    ...nodeFields.slice(0, pooling.index).map((field, i) => ({ node: current(i), field })),
    ...added.map((node) => ({ node, field: undefined })),
    ...nodeFields.slice(pooling.index + 1).map((field, i) => ({ node: current(pooling.index + 1 + i), field })),
  ];
  const needed = new Set([embeddingOutput]);
  const live = new Set<WireField>();
  for (let i = combined.length - 1; i >= 0; i--) {
    const { node, field } = combined[i]!;
    if (!node.output.some((o) => needed.has(o))) continue;
    node.input.forEach((input) => needed.add(input));
    if (field) live.add(field);
  }

  // Weights only the dropped originals read go too (ONNX Runtime would warn about each); one that is
  // also listed as a graph input (older IR versions) stays, or it would become a required feed.
  const graphInputs = new Set(graph.fields.filter((f) => f.no === FieldNumber.graphInput && f.payload).map((f) => valueInfoName(f.payload!)));
  const unusedInitializer = (field: WireField) => {
    const name = tensorName(field.payload!);
    return !needed.has(name) && !graphInputs.has(name);
  };

  const poolField = nodeFields[pooling.index]!;
  const rewiredFields = new Map([...region.rewiredShapes].map(([index, node]) => [nodeFields[index]!, node]));
  const graphParts: Uint8Array[] = [];
  for (const field of graph.fields) {
    if (field === poolField) graphParts.push(...added.map(nodeField));
    else if (field.no === FieldNumber.graphNode && !live.has(field)) continue;
    else if (field.no === FieldNumber.graphInitializer && field.payload && unusedInitializer(field)) continue;
    else if (rewiredFields.has(field)) graphParts.push(nodeField(rewiredFields.get(field)!));
    else if (field.no === FieldNumber.graphOutput && field.payload) {
      if (valueInfoName(field.payload) === embeddingOutput) graphParts.push(field.raw);
    } else graphParts.push(field.raw);
  }
  const graphLength = graphParts.reduce((n, part) => n + part.length, 0);
  return concatBytes(
    graph.modelFields.flatMap((f) => (f === graph.graphField ? [fieldHeader(FieldNumber.modelGraph, graphLength), ...graphParts] : [f.raw])),
  );
}

/**
 * The nodes that take the pooling's place: the frontier tensors gathered to their pooled row, the
 * region's nodes on those (outputs renamed F@pooled), and the pooling itself on the one-row result.
 */
function pooledRowNodes({ nodes }: Graph, pooling: Pooling, region: RowWiseRegion): Node[] {
  const pool = nodes[pooling.index]!;
  const computedInRegion = new Set(region.nodes.flatMap((i) => nodes[i]!.output));
  const renamed = (name: string) => (region.frontier.has(name) || computedInRegion.has(name) ? name + SUFFIX : name);
  const zero = `pooled_row_zero${SUFFIX}`;
  const added: Node[] = [int64Constant(zero, [], [0]), ...gatherFrontier(pooling, pool, [...region.frontier])];
  for (const index of region.nodes) {
    const node = nodes[index]!;
    added.push({ ...node, name: (node.name ?? `node${index}`) + SUFFIX, input: node.input.map((n) => (n ? renamed(n) : n)), output: node.output.map(renamed) });
  }
  // The pooling itself, on the one-row tensor: [B, 1, D] -> [B, D].
  added.push(gather(pooling.pooled + SUFFIX, zero, pool.output[0]!, 1));
  return added;
}

/** Nodes giving each frontier tensor F [B, L, …] its pooled row as F@pooled [B, 1, …]. */
function gatherFrontier(pooling: Pooling, pool: Node, frontier: string[]): Node[] {
  const indices = pool.input[1]!;
  if (pooling.flatten === undefined) {
    // A scalar row index, as a one-element list so that the row axis stays.
    const shape = `pooled_row_shape${SUFFIX}`;
    const row = `pooled_row_index${SUFFIX}`;
    return [
      int64Constant(shape, [1], [1]),
      { input: [indices, shape], output: [row], name: row, op_type: 'Reshape', attribute: [] },
      ...frontier.map((name) => gather(name, row, name + SUFFIX, 1)),
    ];
  }
  // Per-batch rows of [B·L, …]: flatten F the same way, take the rows, and put the row axis back.
  const keepBatch = `pooled_row_keep_batch${SUFFIX}`;
  return [
    int64Constant(keepBatch, [3], [0, 1, -1]),
    ...frontier.flatMap((name): Node[] => [
      { input: [name], output: [`${name}@flat`], name: `${name}@flat`, op_type: 'Flatten', attribute: [{ name: 'axis', type: AttributeType.INT, i: 2 }] },
      gather(`${name}@flat`, indices, `${name}@rows`, 0),
      { input: [`${name}@rows`, keepBatch], output: [name + SUFFIX], name: name + SUFFIX, op_type: 'Reshape', attribute: [] },
    ]),
  ];
}

/** Dims of the graph's constants (initializers and Constant nodes), by name. */
function constantDims(graphFields: WireField[], nodes: Node[]): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const field of graphFields) {
    if (field.no !== FieldNumber.graphInitializer || !field.payload) continue;
    let name = '';
    const shape: number[] = [];
    for (const f of readFields(field.payload)) {
      if (f.no === FieldNumber.tensorName && f.payload) name = utf8.decode(f.payload);
      else if (f.no === FieldNumber.tensorDims) shape.push(...(f.payload ? readPackedVarints(f.payload) : [f.value!]));
    }
    if (name) dims.set(name, shape);
  }
  for (const node of nodes) {
    if (node.op_type !== 'Constant') continue;
    const value = node.attribute.find((a) => a.name === 'value')?.t;
    if (value && node.output[0]) dims.set(node.output[0], (value.dims ?? []).map(int64ToNumber));
  }
  return dims;
}

/** A constant that broadcasts the same way against [B, L, D] and [B, 1, D]: it has no sequence axis of its own. */
function seqFree(dims: number[] | undefined): boolean {
  if (!dims) return false;
  if (dims.length <= 1) return true;
  if (dims.length > 3) return false;
  return dims[dims.length - 2] === 1;
}

/** Whether a node computes each row of a [B, L, D] tensor from that row alone (given which inputs are constants). */
function rowWise(node: Node, dims: Map<string, number[]>): boolean {
  if (node.domain && node.domain !== 'ai.onnx') return false;
  const op = node.op_type;
  const activation = (name: string) => !dims.has(name);
  if (UNARY.has(op)) return node.input.length === 1;
  if (BINARY.has(op)) return node.input.length === 2 && node.input.every((i) => activation(i) || seqFree(dims.get(i)));
  if (op === 'MatMul') return activation(node.input[0]!) && dims.get(node.input[1]!)?.length === 2;
  if (op === 'LayerNormalization') {
    const axis = intAttribute(node, 'axis') ?? -1;
    return (axis === -1 || axis === 2) && node.input.slice(1).every((i) => !activation(i) && (dims.get(i)?.length ?? 0) <= 1);
  }
  if (op === 'ReduceMean') {
    const axes = intsAttribute(node, 'axes');
    return node.input.length === 1 && axes?.length === 1 && (axes[0] === -1 || axes[0] === 2) && (intAttribute(node, 'keepdims') ?? 1) === 1;
  }
  return false;
}

const isShape = (node: Node) => node.op_type === 'Shape';

function intsAttribute(node: Node, name: string): number[] | undefined {
  return node.attribute.find((a) => a.name === name)?.ints?.map(int64ToNumber);
}

function intAttribute(node: Node, name: string): number | undefined {
  const value = node.attribute.find((a) => a.name === name)?.i;
  return value === undefined ? undefined : int64ToNumber(value);
}

function stringField(message: Uint8Array, no: number): string {
  const field = readFields(message).find((f) => f.no === no && f.payload);
  return field ? utf8.decode(field.payload) : '';
}
const valueInfoName = (valueInfo: Uint8Array) => stringField(valueInfo, FieldNumber.valueInfoName);
const tensorName = (tensor: Uint8Array) => stringField(tensor, FieldNumber.tensorName);

const nodeField = (node: Node): Uint8Array => lengthDelimited(FieldNumber.graphNode, encodeNode(node));

const int64Constant = (output: string, dims: number[], values: number[]): Node => ({
  input: [],
  output: [output],
  name: output,
  op_type: 'Constant',
  attribute: [{ name: 'value', type: AttributeType.TENSOR, t: { dims, data_type: DataType.INT64, int64_data: values } }],
});

const gather = (data: string, indices: string, output: string, axis: number): Node => ({
  input: [data, indices],
  output: [output],
  name: output,
  op_type: 'Gather',
  attribute: [{ name: 'axis', type: AttributeType.INT, i: axis }],
});
