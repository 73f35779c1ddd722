/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values uniform in [-1, 1). */
export function randomMatrix(rows: number, dim: number, random: () => number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = random() * 2 - 1;
  return out;
}

/** A copy of `data` placed at a byte offset that is 4 mod 64, to exercise unaligned loads. */
export function unalignedCopy(data: Float32Array): Float32Array {
  const backing = new Float32Array(data.length + 1);
  const view = backing.subarray(1);
  view.set(data);
  return view;
}
