// Float64 reference computations the kernels are checked against.

export function referenceDot(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let sum = 0;
  for (let i = 0; i < dim; i++) sum += a[ai * dim + i]! * b[bi * dim + i]!;
  return sum;
}

export function referenceNorm(a: Float32Array, ai: number, dim: number): number {
  return Math.sqrt(referenceDot(a, ai, a, ai, dim));
}

export function referenceScore(
  metric: 'dot' | 'cosine',
  q: Float32Array,
  qi: number,
  m: Float32Array,
  ri: number,
  dim: number,
): number {
  const d = referenceDot(q, qi, m, ri, dim);
  if (metric === 'dot') return d;
  const n = referenceNorm(q, qi, dim) * referenceNorm(m, ri, dim);
  return n > 0 ? d / n : 0;
}

/**
 * Float32 accumulation in any order differs from float64 by a few ulps of
 * |q|·|r|, the scale of the terms; 1e-5 of that scale is the contract.
 */
export function scoreTolerance(
  metric: 'dot' | 'cosine',
  q: Float32Array,
  qi: number,
  m: Float32Array,
  ri: number,
  dim: number,
): number {
  const scale = metric === 'cosine' ? 1 : referenceNorm(q, qi, dim) * referenceNorm(m, ri, dim);
  return 1e-5 * scale + 1e-7;
}
