// The in-memory engine without HTTP: filter semantics, metadata indexes, and
// the HNSW path (forced on small data) against exact search.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../index/errors.ts';
import { compileFilter, matchesFilter } from '../../index/engine/filter.ts';
import { HnswGraph } from '../../index/engine/hnsw.ts';
import { indexableValue, PropertyIndex } from '../../index/engine/metadata-index.ts';
import { exactTop } from '../../index/engine/scoring.ts';
import { truncateUtf8 } from '../../index/engine/text.ts';
import { DEFAULT_TUNING, VectorIndex, type SearchTuning } from '../../index/engine/vector-index.ts';
import type { DistanceMetric, IndexedValue, Mutation, QueryRequest } from '../../index/types.ts';
import { clusteredSpace } from '../support/clustered.ts';
import { temporaryDirectory } from '../support/files.ts';

let mutations = 0;
const mutation = <M extends Omit<Mutation, 'mutationId' | 'timestamp'>>(m: M) =>
  ({ ...m, mutationId: `m${++mutations}`, timestamp: Date.now() }) as unknown as Mutation;

function buildIndex(metric: DistanceMetric, n: number, dim: number, tuning: Partial<SearchTuning> = {}) {
  const space = clusteredSpace(dim, { clusters: 40, seed: 3 });
  const { vectors } = space.sample(n);
  const values = metric === 'cosine' ? vectors : vectors.map((v, i) => v * (1 + (i % 7) * 0.3));
  const index = new VectorIndex(
    { name: 't', dimensions: dim, metric, createdOn: '', modifiedOn: '' },
    { ...DEFAULT_TUNING, exactBelow: 0, ...tuning },
  );
  index.apply(mutation({ kind: 'createMetadataIndex', propertyName: 'bucket', indexType: 'number' }));
  index.apply(
    mutation({
      kind: 'insert',
      vectors: Array.from({ length: n }, (_, i) => ({ id: `v${i}`, metadata: { bucket: i % 100, odd: i % 2 === 1 } })),
      values,
    }),
  );
  return { index, space, values };
}

const request = (vector: Float32Array, topK: number, extra: Partial<QueryRequest> = {}): QueryRequest => ({
  vector,
  topK,
  returnValues: false,
  returnMetadata: 'none',
  ...extra,
});

/** Exact answer over the vectors that pass `keep`, by brute force in float64. */
function bruteForce(index: VectorIndex, query: Float32Array, k: number, keep: (i: number) => boolean = () => true): string[] {
  const rows: number[] = [];
  for (let r = 0; r < index.store.count; r++) if (keep(Number(index.store.record(r).id.slice(1)))) rows.push(r);
  return exactTop(index.store, index.config.metric, query, k, rows).map((r) => index.store.record(r).id);
}

function recall(got: string[], want: string[]): number {
  const truth = new Set(want);
  return got.filter((id) => truth.has(id)).length / Math.max(1, want.length);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('filter validation and semantics', () => {
  const values = (entries: Record<string, IndexedValue>) => new Map(Object.entries(entries));

  it('compiles every operator and combines keys with AND', () => {
    const filter = compileFilter({ a: 'x', b: { $ne: 2 }, c: { $in: [1, 2] }, d: { $gte: 1, $lt: 5 } });
    expect(filter.map((c) => c.op)).toEqual(['eq', 'ne', 'in', 'range']);
    expect(matchesFilter(filter, values({ a: 'x', b: 3, c: 2, d: 1 }))).toBe(true);
    expect(matchesFilter(filter, values({ a: 'x', b: 2, c: 2, d: 1 }))).toBe(false);
    expect(matchesFilter(filter, values({ a: 'x', b: 3, c: 2, d: 5 }))).toBe(false);
  });

  it('treats an absent property as null', () => {
    expect(matchesFilter(compileFilter({ a: null }), undefined)).toBe(true);
    expect(matchesFilter(compileFilter({ a: { $ne: null } }), values({ a: 1 }))).toBe(true);
    expect(matchesFilter(compileFilter({ a: { $ne: 'x' } }), undefined)).toBe(true);
    expect(matchesFilter(compileFilter({ a: { $nin: ['x'] } }), undefined)).toBe(true);
    expect(matchesFilter(compileFilter({ a: { $in: ['x', null] } }), undefined)).toBe(true);
    expect(matchesFilter(compileFilter({ a: { $gt: 0 } }), undefined)).toBe(false);
  });

  it('never matches across types', () => {
    expect(matchesFilter(compileFilter({ a: 1 }), values({ a: '1' }))).toBe(false);
    expect(matchesFilter(compileFilter({ a: { $lt: 'b' } }), values({ a: 1 }))).toBe(false);
    expect(matchesFilter(compileFilter({ a: true }), values({ a: 1 }))).toBe(false);
  });

  it('compares strings by their first 64 bytes, as the index stores them', () => {
    const long = 'é'.repeat(40); // 80 bytes
    expect(truncateUtf8(long, 64)).toBe('é'.repeat(32));
    expect(truncateUtf8('aé', 2)).toBe('a'); // never splits a character
    const stored = indexableValue({ s: long }, 's', 'string')!;
    expect(matchesFilter(compileFilter({ s: `${'é'.repeat(32)}zzz` }), values({ s: stored }))).toBe(true);
  });

  it.each<[string, unknown]>([
    ['not an object', [1]],
    ['null', null],
    ['empty', {}],
    ['unknown operator', { a: { $exists: true } }],
    ['array value', { a: [1, 2] }],
    ['nested object value', { a: { b: 1 } }],
    ['bound on boolean', { a: { $gt: false } }],
    ['null bound', { a: { $lt: null } }],
    ['mixed bound types', { a: { $gt: 1, $lt: 'z' } }],
    ['three operators', { a: { $gt: 1, $lt: 5, $ne: 3 } }],
    ['$eq with $ne', { a: { $eq: 1, $ne: 2 } }],
    ['empty $in', { a: { $in: [] } }],
    ['object in $in', { a: { $in: [{}] } }],
    ['quote in key', { 'a"b': 1 }],
    ['long key', { ['k'.repeat(513)]: 1 }],
    ['too large', { a: { $in: Array.from({ length: 600 }, (_, i) => i) } }],
  ])('rejects %s', (_, filter) => {
    expect(() => compileFilter(filter)).toThrow(ApiError);
  });
});

describe('metadata indexes', () => {
  it('reads dotted paths and only values of the index type', () => {
    const metadata = { a: { b: 42, c: 'x' }, flag: true, list: ['x'] };
    expect(indexableValue(metadata, 'a.b', 'number')).toBe(42);
    expect(indexableValue(metadata, 'a.b', 'string')).toBeUndefined();
    expect(indexableValue(metadata, 'flag', 'boolean')).toBe(true);
    expect(indexableValue(metadata, 'list', 'string')).toBeUndefined();
    expect(indexableValue(metadata, 'a.missing.deeper', 'number')).toBeUndefined();
  });

  it('enumerates candidates for positive clauses only', () => {
    const index = new PropertyIndex('year', 'number');
    [1990, 2000, 2000, 2010, 2020].forEach((y, label) => index.add(y, label));
    const labels = (filter: Record<string, unknown>) => {
      const sets = index.candidates(compileFilter(filter)[0]!);
      return sets && [...sets.flatMap((s) => [...s])].sort();
    };
    expect(labels({ year: 2000 })).toEqual([1, 2]);
    expect(labels({ year: { $in: [1990, 2020, 1234] } })).toEqual([0, 4]);
    expect(labels({ year: { $gt: 2000, $lte: 2020 } })).toEqual([3, 4]);
    expect(labels({ year: { $lt: 'z' } })).toEqual([]);
    expect(labels({ year: { $ne: 2000 } })).toBeUndefined();
    index.remove(2000, 1);
    expect(labels({ year: { $gte: 2000 } })).toEqual([2, 3, 4]);
  });
});

describe('HNSW search with exact re-scoring', () => {
  const n = 3000;
  const dim = 32;

  it.each<DistanceMetric>(['cosine', 'euclidean', 'dot-product'])('%s: high recall against exact search', (metric) => {
    const { index, space } = buildIndex(metric, n, dim);
    const search = vi.spyOn(HnswGraph.prototype, 'search');
    const { vectors: queries } = space.sample(30);
    let sum = 0;
    for (let q = 0; q < 30; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const got = index.query(request(query, 10));
      expect(got).toHaveLength(10);
      // Best first in Vectorize's order for the metric.
      const scores = got.map((m) => m.score);
      const sorted = [...scores].sort((a, b) => (metric === 'cosine' ? b - a : a - b));
      expect(scores).toEqual(sorted);
      sum += recall(
        got.map((m) => m.id),
        bruteForce(index, query, 10),
      );
    }
    expect(search).toHaveBeenCalled();
    expect(sum / 30).toBeGreaterThanOrEqual(0.95);
  });

  it('reflects deletes and upserts', () => {
    const { index, space } = buildIndex('cosine', n, dim);
    const deleted = Array.from({ length: n / 2 }, (_, i) => `v${i * 2}`);
    index.apply(mutation({ kind: 'delete', ids: deleted }));
    expect(index.vectorCount).toBe(n / 2);
    const { vectors: queries } = space.sample(20);
    let sum = 0;
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const ids = index.query(request(query, 10)).map((m) => m.id);
      expect(ids.every((id) => Number(id.slice(1)) % 2 === 1)).toBe(true);
      sum += recall(ids, bruteForce(index, query, 10));
    }
    // On average: a single query's recall varies with the graph, which a multi-threaded build makes anew each time.
    expect(sum / 20).toBeGreaterThanOrEqual(0.95);
    // Move v1 onto the first query: it must now be the best match.
    const target = queries.slice(0, dim);
    index.apply(mutation({ kind: 'upsert', vectors: [{ id: 'v1', metadata: { bucket: 1 } }], values: target }));
    const [top] = index.query(request(target, 1));
    expect(top).toMatchObject({ id: 'v1' });
    expect(top!.score).toBeCloseTo(1, 5);
    expect(index.vectorCount).toBe(n / 2);
  });

  it('scans a selective filter exactly, without the graph', () => {
    const { index, space } = buildIndex('cosine', n, dim, { subsetExactMax: 100 });
    const search = vi.spyOn(HnswGraph.prototype, 'search');
    const { vectors: queries } = space.sample(5);
    for (let q = 0; q < 5; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const filter = compileFilter({ bucket: q }); // 30 of 3000 vectors
      const ids = index.query(request(query, 10, { filter })).map((m) => m.id);
      expect(ids).toEqual(bruteForce(index, query, 10, (i) => i % 100 === q));
    }
    expect(search).not.toHaveBeenCalled();
  });

  it('oversamples the graph for broad filters and keeps recall', () => {
    const { index, space } = buildIndex('cosine', n, dim, { subsetExactMax: 100 });
    const search = vi.spyOn(HnswGraph.prototype, 'search');
    const { vectors: queries } = space.sample(20);
    let sum = 0;
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const filter = compileFilter({ bucket: { $lt: 30 } }); // 30% of vectors
      const got = index.query(request(query, 10, { filter, returnMetadata: 'indexed' }));
      expect(got).toHaveLength(10);
      expect(got.every((m) => (m.metadata!.bucket as number) < 30)).toBe(true);
      sum += recall(
        got.map((m) => m.id),
        bruteForce(index, query, 10, (i) => i % 100 < 30),
      );
    }
    expect(search).toHaveBeenCalled();
    expect(sum / 20).toBeGreaterThanOrEqual(0.95);
  });

  it('falls back to an exact scan when the graph yields too few matches', () => {
    const { index, space } = buildIndex('cosine', n, dim);
    index.apply(mutation({ kind: 'createMetadataIndex', propertyName: 'tag', indexType: 'string' }));
    const { vectors } = space.sample(2);
    index.apply(
      mutation({ kind: 'upsert', vectors: [{ id: 'v7', metadata: { tag: 'a' } }, { id: 'v8', metadata: { tag: 'b' } }], values: vectors }),
    );
    const search = vi.spyOn(HnswGraph.prototype, 'search');
    // `$ne: null` has no posting list to size it, so the graph is tried first;
    // only two vectors carry the property, so the graph's candidates run short.
    const got = index.query(request(space.sample(1).vectors, 5, { filter: compileFilter({ tag: { $ne: null } }) }));
    expect(search).toHaveBeenCalled();
    expect(got.map((m) => m.id).sort()).toEqual(['v7', 'v8']);
  });

  /** What storage does with a snapshot: the index's state read out, then restored into a fresh index in blocks. */
  function restoreCopy(index: VectorIndex, loadGraph: (graph: HnswGraph) => boolean) {
    const source = index.snapshotSource();
    const count = source.records.length;
    const restored = new VectorIndex(index.config, index.tuning);
    restored.beginRestore(structuredClone(source.meta), count);
    for (let start = 0; start < count; start += 300) {
      const end = Math.min(count, start + 300);
      const rows = new Float32Array((end - start) * dim);
      source.copyRows(start, end, rows);
      restored.restoreRows(structuredClone(source.records.slice(start, end)), rows);
    }
    source.release();
    return { restored, usedGraph: restored.finishRestore(loadGraph) };
  }

  it('snapshots and restores to identical answers with the saved graph', () => {
    const { index, space } = buildIndex('euclidean', 1000, dim);
    const graphPath = join(temporaryDirectory('engine-test-', 'test'), 'graph.usearch');
    index.saveGraph(graphPath);
    const { restored, usedGraph } = restoreCopy(index, (g) => (g.load(graphPath), true));
    expect(usedGraph).toBe(true);
    const query = space.sample(1).vectors;
    const expected = index.query(request(query, 10, { returnMetadata: 'all', returnValues: true }));
    expect(restored.query(request(query, 10, { returnMetadata: 'all', returnValues: true }))).toEqual(expected);
    expect(restored.info()).toEqual(index.info());
    expect(restored.metadataIndexes()).toEqual(index.metadataIndexes());
  });

  it('rebuilds the graph from a snapshot without one, answering from the same records', () => {
    const { index, space } = buildIndex('euclidean', 1000, dim);
    const { restored: rebuilt, usedGraph } = restoreCopy(index, () => false);
    expect(usedGraph).toBe(false);
    expect(rebuilt.info()).toEqual(index.info());
    expect(rebuilt.metadataIndexes()).toEqual(index.metadataIndexes());
    // A graph built again (on several threads) is another graph: the same records, not necessarily the same
    // approximate candidates, so its answers are held to exact search rather than to the first graph's.
    const { vectors: queries } = space.sample(20);
    let sum = 0;
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const got = rebuilt.query(request(query, 10, { returnMetadata: 'all', returnValues: true }));
      for (const match of got) {
        const [original] = index.getByIds([match.id]);
        expect({ metadata: match.metadata, values: match.values }).toEqual({ metadata: original!.metadata, values: original!.values });
      }
      sum += recall(got.map((m) => m.id), bruteForce(index, query, 10));
    }
    expect(sum / 20).toBeGreaterThanOrEqual(0.95);
  });
});
