import { describe, expect, it } from 'vitest';
import { implementations, type Metric, type Scoring } from '../../native/index.ts';
import { randomMatrix, seededRandom, unalignedCopy } from '../support/random.ts';
import { referenceNorm, referenceScore, scoreTolerance } from './reference.ts';

const DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 768, 1000, 1024, 1031];

/** Every implementation and, for the addon, every SIMD level this CPU runs. */
function variants(): { name: string; scoring: Scoring; level: string }[] {
  const out: { name: string; scoring: Scoring; level: string }[] = [
    { name: 'fallback', scoring: implementations.fallback, level: 'typescript' },
  ];
  const native = implementations.native;
  if (native) for (const level of native.supportedSimdLevels()) out.push({ name: `native/${level}`, scoring: native, level });
  return out;
}

/** Data with zero rows, for a given dim; views are unaligned when asked. */
function dataset(dim: number, rows: number, nq: number, seed: number, unaligned: boolean) {
  const random = seededRandom(seed);
  const matrix = randomMatrix(rows, dim, random);
  for (const zero of [2, rows - 1]) if (zero >= 0 && zero < rows) matrix.fill(0, zero * dim, (zero + 1) * dim);
  const queries = randomMatrix(nq, dim, random);
  return unaligned ? { matrix: unalignedCopy(matrix), queries: unalignedCopy(queries) } : { matrix, queries };
}

function expectScoresMatchReference(metric: Metric, got: Float32Array, queries: Float32Array, matrix: Float32Array, dim: number) {
  const nq = queries.length / dim;
  const rows = matrix.length / dim;
  expect(got.length).toBe(nq * rows);
  for (let q = 0; q < nq; q++)
    for (let r = 0; r < rows; r++) {
      const want = referenceScore(metric, queries, q, matrix, r, dim);
      const err = Math.abs(got[q * rows + r]! - want);
      if (err > scoreTolerance(metric, queries, q, matrix, r, dim))
        throw new Error(`${metric} score q=${q} r=${r} dim=${dim}: got ${got[q * rows + r]}, want ${want}`);
    }
}

/**
 * A correct top-k: min(k, N) distinct rows, best first with ties by index,
 * each score right, and no row left out that scores better than the last one kept.
 */
function expectValidTopK(
  metric: Metric,
  result: { indices: Uint32Array; scores: Float32Array },
  queries: Float32Array,
  matrix: Float32Array,
  dim: number,
  k: number,
) {
  const nq = queries.length / dim;
  const rows = matrix.length / dim;
  const keep = Math.min(k, rows);
  expect(result.indices.length).toBe(nq * keep);
  expect(result.scores.length).toBe(nq * keep);
  for (let q = 0; q < nq; q++) {
    const idx = Array.from(result.indices.subarray(q * keep, (q + 1) * keep));
    const sc = Array.from(result.scores.subarray(q * keep, (q + 1) * keep));
    expect(new Set(idx).size).toBe(keep);
    for (let i = 0; i < keep; i++) {
      const want = referenceScore(metric, queries, q, matrix, idx[i]!, dim);
      expect(Math.abs(sc[i]! - want)).toBeLessThanOrEqual(scoreTolerance(metric, queries, q, matrix, idx[i]!, dim));
      if (i > 0) expect(sc[i - 1]! > sc[i]! || (sc[i - 1] === sc[i] && idx[i - 1]! < idx[i]!)).toBe(true);
    }
    const kept = new Set(idx);
    const last = sc[keep - 1]!;
    for (let r = 0; r < rows; r++) {
      if (kept.has(r)) continue;
      const s = referenceScore(metric, queries, q, matrix, r, dim);
      expect(s).toBeLessThanOrEqual(last + scoreTolerance(metric, queries, q, matrix, r, dim));
    }
  }
}

describe.each(variants())('scoring: $name', ({ scoring, level }) => {
  const use = () => expect(scoring.setSimdLevel(level)).toBe(true);

  it('reports the level it runs', () => {
    use();
    expect(scoring.simdLevel()).toBe(level);
  });

  it.each([false, true])('dotScores and cosineScores match float64 for every dim (unaligned views: %s)', (unaligned) => {
    use();
    for (const dim of DIMS) {
      const { matrix, queries } = dataset(dim, 13, 5, dim * 7 + 1, unaligned);
      expectScoresMatchReference('dot', scoring.dotScores(queries, matrix, dim), queries, matrix, dim);
      expectScoresMatchReference('cosine', scoring.cosineScores(queries, matrix, dim), queries, matrix, dim);
    }
  });

  it.each([false, true])('l2Normalize makes unit rows in place and keeps zero rows zero (unaligned views: %s)', (unaligned) => {
    use();
    for (const dim of DIMS) {
      const { matrix } = dataset(dim, 11, 0, dim + 3, unaligned);
      const original = matrix.slice();
      const out = scoring.l2Normalize(matrix, dim);
      expect(out).toBe(matrix);
      for (let r = 0; r < 11; r++) {
        const norm = referenceNorm(original, r, dim);
        for (let i = 0; i < dim; i++) {
          const want = norm > 0 ? original[r * dim + i]! / norm : 0;
          expect(Math.abs(matrix[r * dim + i]! - want)).toBeLessThanOrEqual(1e-6);
        }
      }
    }
  });

  it.each(['dot', 'cosine'] as const)('topK (%s) returns the true best rows for every dim, Q>1, k below and above N', (metric) => {
    use();
    for (const dim of DIMS) {
      const { matrix, queries } = dataset(dim, 41, 6, dim * 13 + 5, dim % 2 === 1);
      for (const k of [1, 5, 41, 100]) expectValidTopK(metric, scoring.topK(queries, matrix, dim, k, { metric }), queries, matrix, dim, k);
    }
  });

  it('topK breaks exact ties by the lower row index', () => {
    use();
    const dim = 19;
    const random = seededRandom(5);
    const matrix = randomMatrix(30, dim, random);
    const best = randomMatrix(1, dim, random).map((v) => v * 4);
    for (const row of [21, 3, 17, 9]) matrix.set(best, row * dim);
    const { indices } = scoring.topK(best, matrix, dim, 4);
    expect(Array.from(indices)).toEqual([3, 9, 17, 21]);
  });

  it('cosine scores of an all-zero row or query are 0', () => {
    use();
    const dim = 24;
    const matrix = randomMatrix(4, dim, seededRandom(9));
    matrix.fill(0, dim, 2 * dim);
    const queries = new Float32Array(2 * dim);
    queries.set(matrix.subarray(0, dim));
    const scores = scoring.cosineScores(queries, matrix, dim);
    expect(scores[1]).toBe(0);
    expect(Array.from(scores.subarray(4))).toEqual([0, 0, 0, 0]);
  });

  it('handles empty inputs: no rows or no queries', () => {
    use();
    const q = new Float32Array(8);
    expect(scoring.dotScores(q, new Float32Array(0), 8).length).toBe(0);
    expect(scoring.topK(q, new Float32Array(0), 8, 3).indices.length).toBe(0);
    expect(scoring.topK(new Float32Array(0), randomMatrix(3, 8, seededRandom(1)), 8, 3).indices.length).toBe(0);
    expect(scoring.l2Normalize(new Float32Array(0), 8).length).toBe(0);
  });

  it('async twins give the same results as the sync functions', async () => {
    use();
    const dim = 129;
    const { matrix, queries } = dataset(dim, 300, 7, 77, true);
    expect(await scoring.dotScoresAsync(queries, matrix, dim)).toEqual(scoring.dotScores(queries, matrix, dim));
    expect(await scoring.cosineScoresAsync(queries, matrix, dim)).toEqual(scoring.cosineScores(queries, matrix, dim));
    expect(await scoring.topKAsync(queries, matrix, dim, 10, { metric: 'cosine' })).toEqual(
      scoring.topK(queries, matrix, dim, 10, { metric: 'cosine' }),
    );
    const a = matrix.slice();
    const b = matrix.slice();
    expect(await scoring.l2NormalizeAsync(a, dim)).toBe(a);
    expect(a).toEqual(scoring.l2Normalize(b, dim));
  });
});

describe('addon and fallback agree', () => {
  const native = implementations.native;
  it.skipIf(!native)('on scores (1e-5 relative to the score scale) and on top-k order', () => {
    const { fallback } = implementations;
    for (const dim of [3, 64, 100, 512, 1031]) {
      const { matrix, queries } = dataset(dim, 200, 9, dim, false);
      const a = native!.cosineScores(queries, matrix, dim);
      const b = fallback.cosineScores(queries, matrix, dim);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5);
      const ta = native!.topK(queries, matrix, dim, 5);
      const tb = fallback.topK(queries, matrix, dim, 5);
      for (let i = 0; i < ta.scores.length; i++) {
        const q = Math.floor(i / 5);
        expect(Math.abs(ta.scores[i]! - tb.scores[i]!)).toBeLessThanOrEqual(
          1e-5 * referenceNorm(queries, q, dim) * referenceNorm(matrix, ta.indices[i]!, dim),
        );
      }
    }
  });
});

describe.skipIf(!implementations.native)('native threading', () => {
  const native = implementations.native!;
  it('gives bit-identical results for any thread count', async () => {
    native.setSimdLevel(native.supportedSimdLevels().at(-1)!);
    const dim = 96;
    const { matrix, queries } = dataset(dim, 5003, 70, 11, true);
    const one = native.topK(queries, matrix, dim, 25, { threads: 1 });
    for (const threads of [2, 3, 7]) {
      expect(native.topK(queries, matrix, dim, 25, { threads })).toEqual(one);
      expect(await native.topKAsync(queries, matrix, dim, 25, { threads })).toEqual(one);
      expect(native.dotScores(queries, matrix, dim, { threads })).toEqual(native.dotScores(queries, matrix, dim, { threads: 1 }));
    }
    expectValidTopK('dot', one, queries, matrix, dim, 25);
  });

  it('keeps the event loop free while an async scan runs', async () => {
    const dim = 256;
    const matrix = randomMatrix(200_000, dim, seededRandom(3));
    const queries = randomMatrix(16, dim, seededRandom(4));
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const result = await native.topKAsync(queries, matrix, dim, 10, { threads: 1 });
    done = true;
    expect(result.indices.length).toBe(160);
    expect(turns).toBeGreaterThan(10);
  });
});
