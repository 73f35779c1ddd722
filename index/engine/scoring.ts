// Exact scoring with the repo's native SIMD scorer, and the scores Vectorize
// reports: cosine similarity (descending), euclidean distance (ascending),
// negative dot product (ascending) — shared/docs/vectorize.md §5.
import { cosineScores, dotScores, topK } from '../../native/index.ts';
import type { DistanceMetric } from '../types.ts';
import type { VectorStore } from './vector-store.ts';

/** Rows best first, by bounded selection on a "higher is better" key. */
class Selector {
  private readonly keys: number[] = [];
  private readonly rows: number[] = [];

  constructor(private readonly k: number) {}

  offer(key: number, row: number): void {
    const n = this.keys.length;
    if (n === this.k && !(key > this.keys[n - 1]!)) return;
    let i = n === this.k ? n - 1 : n;
    // Insertion into a small sorted array: k ≤ a few hundred.
    while (i > 0 && this.keys[i - 1]! < key) {
      this.keys[i] = this.keys[i - 1]!;
      this.rows[i] = this.rows[i - 1]!;
      i--;
    }
    this.keys[i] = key;
    this.rows[i] = row;
  }

  result(): number[] {
    return this.rows.slice(0, this.k);
  }
}

function gather(store: VectorStore, rows: ArrayLike<number>): Float32Array {
  const dim = store.dim;
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(store.values(rows[i]!), i * dim);
  return out;
}

/**
 * The `k` best rows for `query`, exactly, among `rows` (all live rows when
 * omitted), best first. Small subsets are gathered into a dense matrix;
 * large ones are scored in place over the whole matrix and masked.
 */
export function exactTop(
  store: VectorStore,
  metric: DistanceMetric,
  query: Float32Array,
  k: number,
  rows?: ArrayLike<number>,
): number[] {
  const n = store.count;
  const m = rows ? rows.length : n;
  if (m === 0 || k <= 0) return [];
  const dim = store.dim;
  const gathered = rows !== undefined && m * 4 <= n;
  const matrix = gathered ? gather(store, rows) : store.matrix();
  const rowAt = (i: number): number => (gathered ? rows[i]! : i);

  if (metric !== 'euclidean' && (gathered || rows === undefined)) {
    const { indices } = topK(query, matrix, dim, Math.min(k, m), { metric: metric === 'cosine' ? 'cosine' : 'dot' });
    return Array.from(indices, rowAt);
  }

  const scores = metric === 'cosine' ? cosineScores(query, matrix, dim) : dotScores(query, matrix, dim);
  // Euclidean ranks by 2·q·x − |x|², which orders like −|q − x|².
  const key =
    metric === 'euclidean' ? (i: number, row: number) => 2 * scores[i]! - store.squaredNorm(row) : (i: number) => scores[i]!;
  const selector = new Selector(Math.min(k, m));
  if (gathered || rows === undefined) {
    const count = matrix.length / dim;
    for (let i = 0; i < count; i++) selector.offer(key(i, rowAt(i)), rowAt(i));
  } else {
    for (let i = 0; i < m; i++) selector.offer(key(rows[i]!, rows[i]!), rows[i]!);
  }
  return selector.result();
}

/**
 * The scorer for one query: `score(values, squaredNorm)` is the score
 * Vectorize reports for a stored row, computed in float64. `squaredNorm` is
 * the row's Σx² as VectorStore keeps it (float64, summed in index order —
 * the same sum this computed before); only cosine reads it.
 */
export function vectorizeScorer(
  metric: DistanceMetric,
  query: Float32Array,
  dim: number,
): (values: Float32Array, squaredNorm: number) => number {
  switch (metric) {
    case 'cosine': {
      let qq = 0;
      for (let i = 0; i < dim; i++) {
        const q = query[i]!;
        qq += q * q;
      }
      return (values, xx) => {
        let dot = 0;
        for (let i = 0; i < values.length; i++) dot += query[i]! * values[i]!;
        return qq > 0 && xx > 0 ? dot / Math.sqrt(qq * xx) : 0;
      };
    }
    case 'dot-product':
      return (values) => {
        let dot = 0;
        for (let i = 0; i < values.length; i++) dot += query[i]! * values[i]!;
        return -dot;
      };
    case 'euclidean':
      return (values) => {
        let ss = 0;
        for (let i = 0; i < values.length; i++) {
          const d = query[i]! - values[i]!;
          ss += d * d;
        }
        return Math.sqrt(ss);
      };
  }
}

/** Comparator for Vectorize scores: best first. */
export const byScore = (metric: DistanceMetric) =>
  metric === 'cosine' ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
