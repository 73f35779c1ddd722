/**
 * Building blocks made of standard opset-14 operators, decomposed the way the
 * PyTorch exporter writes them (onnxruntime fuses LayerNorm and GELU patterns
 * back into single kernels).
 */
import { attr, type GraphBuilder } from './graph-builder.ts';

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(
  b: GraphBuilder,
  x: string,
  weight: string,
  bias: string,
  eps: number,
  outputName?: string,
): string {
  const axes = { axes: attr.ints([-1]) };
  const mean = b.op1('ReduceMean', [x], axes);
  const centred = b.op1('Sub', [x, mean]);
  const variance = b.op1('ReduceMean', [b.op1('Pow', [centred, b.float(2)])], axes);
  const std = b.op1('Sqrt', [b.op1('Add', [variance, b.float(eps)])]);
  const normed = b.op1('Div', [centred, std]);
  return b.op1('Add', [b.op1('Mul', [normed, weight]), bias], {}, outputName);
}

/** x @ weight (+ bias); weight is [in, out]. */
export function linear(b: GraphBuilder, x: string, weight: string, bias?: string, outputName?: string): string {
  if (bias === undefined) return b.op1('MatMul', [x, weight], {}, outputName);
  return b.op1('Add', [b.op1('MatMul', [x, weight]), bias], {}, outputName);
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(b: GraphBuilder, x: string): string {
  return b.op1('Mul', [x, b.op1('Sigmoid', [b.op1('Mul', [x, b.float(1.702)])])]);
}

/** x / max(||x||₂, 1e-12) over the last axis, as torch.nn.functional.normalize. */
export function l2Normalize(b: GraphBuilder, x: string, outputName?: string): string {
  const norm = b.op1('ReduceL2', [x], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const safe = b.op1('Max', [norm, b.float(1e-12)]);
  return b.op1('Div', [x, safe], {}, outputName);
}

/** The tower's embedding: the pooled row projected, L2-normalised where the layout's graphs do that. */
export function projectedEmbedding(
  b: GraphBuilder,
  pooled: string,
  projection: string,
  embedding: { readonly name: string; readonly normalize: boolean },
): string {
  return b.scope('projection', () => {
    if (!embedding.normalize) return linear(b, pooled, projection, undefined, embedding.name);
    return l2Normalize(b, linear(b, pooled, projection), embedding.name);
  });
}
