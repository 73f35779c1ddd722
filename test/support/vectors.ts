// Small vector helpers shared by tests and benchmarks.
import { Tensor } from 'onnxruntime-node';

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Cosine similarity, computed in float64. */
export const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

export const CLIP_SOT = 49406;
export const CLIP_EOT = 49407;

/** Token ids padded to `length` (with the end token, as Hugging Face pads, unless `pad` says otherwise). */
export function padded(ids: readonly number[], length: number, pad = CLIP_EOT): number[] {
  return [...ids, ...Array<number>(length - ids.length).fill(pad)];
}

/** Rows of token ids as an int64 ONNX tensor. */
export function int64Batch(rows: readonly (readonly number[])[]): Tensor {
  const length = rows[0]?.length ?? 0;
  return new Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, length]);
}

/** A `batch × dim` float32 tensor as one array per row. */
export function rowsOf(tensor: Tensor): Float32Array[] {
  const [batch = 0, dim = 0] = tensor.dims;
  const data = tensor.data as Float32Array;
  return Array.from({ length: batch }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

/** `count` random 3×224×224 tensors, roughly in the range of CLIP-normalised pixels. */
export function randomPixelBatch(count: number, random: () => number): Float32Array {
  return Float32Array.from({ length: count * 3 * 224 * 224 }, () => (random() * 2 - 1) * 1.8);
}
