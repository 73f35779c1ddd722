// SigLIP's learned logit_scale and logit_bias, read from a combined graph (onnx/model.onnx: Optimum's
// export of SiglipModel, which Xenova's and onnx-community's repositories ship beside the split towers).
// SiglipModel.forward computes
//   logits_per_text = text_embeds @ image_embeds.T * logit_scale.exp() + logit_bias
// and torch's exporter folds the parameters' casts into anonymous initializers (onnx::Exp_N,
// onnx::Add_N: embedder/model-gen/families/export_siglip_combined.py), so the two values are found by
// that arithmetic, from the graph output back: Add(Mul(MatMul, Exp(log scale)), bias).
import { readFileSync } from 'node:fs';
import { decodeNode, FieldNumber, TensorProto, type NodeMessage as Node } from '../onnx/onnx-proto.ts';
import { readFields } from '../onnx/protobuf-wire.ts';

export interface SigmoidParameters {
  /** exp(logit_scale): the multiplier of the cosine. */
  readonly scale: number;
  readonly bias: number;
}

interface Tensor {
  dims?: unknown[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
}

const FLOAT = 1;
const FLOAT16 = 10;
const DOUBLE = 11;
/** Ops that pass a constant on unchanged in value (torch's `.to(device)` becomes a Cast). */
const PASS_THROUGH = new Set(['Cast', 'Identity']);

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** The one value of a one-element float tensor; null for anything else. */
function scalarValue(tensor: Tensor): number | null {
  if ((tensor.dims ?? []).some((d) => Number(d) !== 1)) return null;
  const raw = tensor.raw_data;
  const view = raw?.length ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  switch (tensor.data_type) {
    case FLOAT:
      return view?.byteLength === 4 ? view.getFloat32(0, true) : tensor.float_data?.length === 1 ? tensor.float_data[0]! : null;
    case FLOAT16:
      return view?.byteLength === 2 ? halfToNumber(view.getUint16(0, true)) : tensor.int32_data?.length === 1 ? halfToNumber(tensor.int32_data[0]!) : null;
    case DOUBLE:
      return view?.byteLength === 8 ? view.getFloat64(0, true) : null;
    default:
      return null;
  }
}

const utf8 = new TextDecoder();

/** The graph's nodes, and a reader of its one-element constants (initializers and Constant nodes) by name. */
function readGraph(model: Uint8Array) {
  const graph = readFields(model).find((f) => f.no === FieldNumber.modelGraph && f.payload)?.payload;
  if (!graph) return null;
  const fields = readFields(graph);
  const nodes = fields.filter((f) => f.no === FieldNumber.graphNode && f.payload).map((f) => decodeNode(f.payload!));
  const producer = new Map<string, Node>();
  for (const node of nodes) for (const output of node.output) producer.set(output, node);
  const initializers = new Map<string, Uint8Array>();
  for (const field of fields) {
    if (field.no !== FieldNumber.graphInitializer || !field.payload) continue;
    const name = readFields(field.payload).find((f) => f.no === FieldNumber.tensorName && f.payload)?.payload;
    if (name) initializers.set(utf8.decode(name), field.payload);
  }
  const scalar = (name: string): number | null => {
    const node = producer.get(name);
    if (node && PASS_THROUGH.has(node.op_type) && node.input[0]) return scalar(node.input[0]);
    if (node?.op_type === 'Constant') {
      const value = node.attribute.find((a) => a.name === 'value')?.t as Tensor | undefined;
      return value ? scalarValue(value) : null;
    }
    const initializer = !node && initializers.get(name);
    return initializer ? scalarValue(TensorProto.toObject(TensorProto.decode(initializer), { arrays: true }) as Tensor) : null;
  };
  return { producer, scalar };
}

/** Both orders of a binary node's inputs, as [the constant's side, the other side]. */
const orders = (node: Node): [string, string][] => (node.input.length === 2 ? [[node.input[1]!, node.input[0]!], [node.input[0]!, node.input[1]!]] : []);

/** logit_scale and logit_bias from SiglipModel's combined graph; null where the graph does not compute SigLIP's logits. */
export function sigmoidParametersFromGraph(model: Uint8Array): SigmoidParameters | null {
  const graph = readGraph(model);
  if (!graph) return null;
  const { producer, scalar } = graph;
  let logits = producer.get('logits_per_text');
  if (!logits) {
    const transpose = producer.get('logits_per_image');
    logits = transpose?.op_type === 'Transpose' && transpose.input[0] ? producer.get(transpose.input[0]) : undefined;
  }
  if (logits?.op_type !== 'Add') return null;
  for (const [biasName, productName] of orders(logits)) {
    const bias = scalar(biasName);
    const product = producer.get(productName);
    if (bias === null || product?.op_type !== 'Mul') continue;
    for (const [scaleName, cosinesName] of orders(product)) {
      const cosines = producer.get(cosinesName);
      if (cosines?.op_type !== 'MatMul' && cosines?.op_type !== 'Gemm') continue;
      const exp = producer.get(scaleName);
      // Exp(log scale) as SiglipModel computes it, or the scale itself where an optimiser folded the Exp.
      const scale = exp?.op_type === 'Exp' && exp.input[0] ? Math.exp(scalar(exp.input[0]) ?? NaN) : scalar(scaleName);
      if (scale !== null && Number.isFinite(scale) && scale > 0 && Number.isFinite(bias)) return { scale, bias };
    }
  }
  return null;
}

/** The same, from a file; a file that cannot be read or parsed is reported as what went wrong. */
export function readSigmoidParameters(path: string): SigmoidParameters | { readonly problem: string } {
  try {
    return sigmoidParametersFromGraph(readFileSync(path)) ?? { problem: `${path} does not compute SigLIP's logits (logits_per_text = cos · exp(logit_scale) + logit_bias)` };
  } catch (error) {
    return { problem: `${path} could not be read: ${(error as Error).message}` };
  }
}
