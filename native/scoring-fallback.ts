// Pure TypeScript implementation with the addon's exact semantics, used when
// the addon is not built. Accumulates in float64, so it is also the more
// precise of the two.
import type { Metric, ScoringBackend, TopKResult } from './types.ts';

function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dim: number): number {
  let sum = 0;
  for (let i = 0; i < dim; i++) sum += a[aOffset + i]! * b[bOffset + i]!;
  return sum;
}

function inverseNorms(matrix: Float32Array, dim: number): Float64Array {
  const rows = matrix.length / dim;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const ss = dot(matrix, r * dim, matrix, r * dim, dim);
    out[r] = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  }
  return out;
}

/** Score for ranking: NaN ranks below every number. */
const rankKey = (score: number): number => (Number.isNaN(score) ? -Infinity : score);

/** True when (scoreA, indexA) ranks strictly before (scoreB, indexB). */
function better(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  const a = rankKey(scoreA);
  const b = rankKey(scoreB);
  return a > b || (a === b && indexA < indexB);
}

/** Bounded selection; front (slot 0) is the worst entry kept. */
class TopKHeap {
  readonly scores: Float32Array;
  readonly indices: Uint32Array;
  size = 0;

  constructor(readonly k: number) {
    this.scores = new Float32Array(k);
    this.indices = new Uint32Array(k);
  }

  offer(score: number, index: number): void {
    if (this.size < this.k) {
      this.scores[this.size] = score;
      this.indices[this.size] = index;
      this.siftUp(this.size++);
    } else if (better(score, index, this.scores[0]!, this.indices[0]!)) {
      this.scores[0] = score;
      this.indices[0] = index;
      this.siftDown(0);
    }
  }

  /** Writes the kept entries best first. */
  drainInto(indices: Uint32Array, scores: Float32Array, offset: number): void {
    const order = Array.from({ length: this.size }, (_, i) => i).sort((a, b) =>
      better(this.scores[a]!, this.indices[a]!, this.scores[b]!, this.indices[b]!) ? -1 : 1,
    );
    order.forEach((slot, i) => {
      indices[offset + i] = this.indices[slot]!;
      scores[offset + i] = this.scores[slot]!;
    });
  }

  private worse(i: number, j: number): boolean {
    return better(this.scores[j]!, this.indices[j]!, this.scores[i]!, this.indices[i]!);
  }

  private swap(i: number, j: number): void {
    [this.scores[i], this.scores[j]] = [this.scores[j]!, this.scores[i]!];
    [this.indices[i], this.indices[j]] = [this.indices[j]!, this.indices[i]!];
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < this.size && this.worse(left, worst)) worst = left;
      if (right < this.size && this.worse(right, worst)) worst = right;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}

function l2Normalize(matrix: Float32Array, dim: number): Float32Array {
  const inv = inverseNorms(matrix, dim);
  for (let r = 0; r < inv.length; r++) {
    const f = inv[r]!;
    if (f === 0) continue;
    for (let i = r * dim; i < (r + 1) * dim; i++) matrix[i] = matrix[i]! * f;
  }
  return matrix;
}

/** Calls `each(q, r, score)` for every query/row pair, queries outermost. */
function forEachScore(
  queries: Float32Array,
  matrix: Float32Array,
  dim: number,
  metric: Metric,
  each: (q: number, r: number, score: number) => void,
): void {
  const nq = queries.length / dim;
  const rows = matrix.length / dim;
  const qInv = metric === 'cosine' ? inverseNorms(queries, dim) : undefined;
  const rInv = metric === 'cosine' ? inverseNorms(matrix, dim) : undefined;
  for (let q = 0; q < nq; q++) {
    for (let r = 0; r < rows; r++) {
      const d = dot(queries, q * dim, matrix, r * dim, dim);
      each(q, r, qInv && rInv ? d * qInv[q]! * rInv[r]! : d);
    }
  }
}

function scores(queries: Float32Array, matrix: Float32Array, dim: number, metric: Metric): Float32Array {
  const rows = matrix.length / dim;
  const out = new Float32Array((queries.length / dim) * rows);
  forEachScore(queries, matrix, dim, metric, (q, r, s) => {
    out[q * rows + r] = s;
  });
  return out;
}

function topK(queries: Float32Array, matrix: Float32Array, dim: number, k: number, metric: Metric): TopKResult {
  const nq = queries.length / dim;
  const keep = Math.min(k, matrix.length / dim);
  const heaps = Array.from({ length: nq }, () => new TopKHeap(keep));
  if (keep > 0) forEachScore(queries, matrix, dim, metric, (q, r, s) => heaps[q]!.offer(Math.fround(s), r));
  const result = { indices: new Uint32Array(nq * keep), scores: new Float32Array(nq * keep) };
  heaps.forEach((heap, q) => heap.drainInto(result.indices, result.scores, q * keep));
  return result;
}

export const fallbackBackend: ScoringBackend = {
  l2Normalize,
  scores,
  topK,
  l2NormalizeAsync: async (matrix, dim) => l2Normalize(matrix, dim),
  scoresAsync: async (queries, matrix, dim, metric) => scores(queries, matrix, dim, metric),
  topKAsync: async (queries, matrix, dim, k, metric) => topK(queries, matrix, dim, k, metric),
  simdLevel: () => 'typescript',
  supportedSimdLevels: () => ['typescript'],
  setSimdLevel: (level) => level === 'typescript',
};
