// One Vectorize index in memory: vectors, HNSW graph, metadata indexes and
// namespaces. Pure state machine — no I/O. Mutations arrive already durable
// and are applied in log order; queries see every applied mutation.
import { badRequest, CODES } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import type {
  Clause,
  CompiledFilter,
  IndexConfig,
  IndexedValue,
  Match,
  Metadata,
  MetadataIndexSpec,
  Mutation,
  QueryRequest,
  StoredVector,
  VectorHeader,
} from '../types.ts';
import { matchesFilter } from './filter.ts';
import { DEFAULT_HNSW, HnswGraph, type HnswParams } from './hnsw.ts';
import { indexableValue, lowerBound, PropertyIndex } from './metadata-index.ts';
import { byScore, exactTop, vectorizeScorer } from './scoring.ts';
import { VectorStore, type NewRecord, type VectorRecord } from './vector-store.ts';

export interface SearchTuning {
  /** Indexes with at most this many vectors are always searched exactly. */
  exactBelow: number;
  /** A filter whose posting lists hold at most this many vectors is scanned exactly. */
  subsetExactMax: number;
  /** Extra HNSW candidates fetched beyond topK, for exact re-scoring. */
  extraCandidates: number;
  hnsw: HnswParams;
}

export const DEFAULT_TUNING: SearchTuning = {
  exactBelow: 4096,
  subsetExactMax: 4096,
  extraCandidates: 32,
  hnsw: DEFAULT_HNSW,
};

export interface IndexInfo {
  dimensions: number;
  vectorCount: number;
  processedUpToMutation: string | null;
  processedUpToDatetime: string | null;
}

export interface ListPage {
  count: number;
  totalCount: number;
  isTruncated: boolean;
  nextCursor: string | null;
  cursorExpirationTimestamp: string | null;
  vectors: { id: string }[];
}

/** What a snapshot holds besides the records, their rows and the graph. */
export interface IndexMeta {
  nextLabel: number;
  lastMutation: { id: string; timestamp: number } | null;
  metadataIndexes: MetadataIndexSpec[];
}

/** The index as it was at one moment, readable while it keeps changing, until `release()`. */
export interface IndexSnapshotSource {
  meta: IndexMeta;
  /** Records in row order. */
  records: readonly NewRecord[];
  /** Rows [start, end) as they were, into `out`; reads go forward. */
  copyRows(start: number, end: number, out: Float32Array): void;
  release(): void;
}

type Postings = { sets: ReadonlySet<number>[]; size: number };

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (cursor: string) => Buffer.from(cursor, 'base64url').toString('utf8');

export class VectorIndex {
  readonly store: VectorStore;
  private graph: HnswGraph;
  private readonly propertyIndexes = new Map<string, PropertyIndex>();
  private readonly namespaces = new Map<string, Set<number>>();
  private nextLabel = 0;
  private lastMutation: { id: string; timestamp: number } | null = null;
  private sortedIds: string[] | null = null;

  constructor(
    readonly config: IndexConfig,
    readonly tuning: SearchTuning = DEFAULT_TUNING,
  ) {
    this.store = new VectorStore(config.dimensions);
    this.graph = new HnswGraph(config.dimensions, config.metric, tuning.hnsw);
  }

  get vectorCount(): number {
    return this.store.count;
  }

  has(id: string): boolean {
    return this.store.byId.has(id);
  }

  metadataIndexes(): MetadataIndexSpec[] {
    return [...this.propertyIndexes.values()].map((p) => ({ propertyName: p.propertyName, indexType: p.type }));
  }

  hasMetadataIndex(propertyName: string): boolean {
    return this.propertyIndexes.has(propertyName);
  }

  info(): IndexInfo {
    return {
      dimensions: this.config.dimensions,
      vectorCount: this.store.count,
      processedUpToMutation: this.lastMutation?.id ?? null,
      processedUpToDatetime: this.lastMutation ? new Date(this.lastMutation.timestamp).toISOString() : null,
    };
  }

  // ---- mutations ------------------------------------------------------

  /** Checks that only depend on current state, before a write is logged. */
  checkNamespaces(vectors: readonly VectorHeader[]): void {
    const fresh = new Set<string>();
    for (const v of vectors) if (v.namespace !== undefined && !this.namespaces.has(v.namespace)) fresh.add(v.namespace);
    if (this.namespaces.size + fresh.size > LIMITS.maxNamespaces)
      throw badRequest(CODES.invalidNamespace, `an index holds at most ${LIMITS.maxNamespaces} namespaces`);
  }

  /** Applies a mutation at once (log replay). */
  apply(m: Mutation): void {
    for (const steps = this.applySteps(m); !steps.next().done; );
  }

  /**
   * Applies a mutation in steps, for a caller that lets queries in between: an
   * insert or upsert hands the graph `chunkRows` vectors a step. A read between
   * steps sees part of the batch; `info()` names this mutation only after its
   * last step. The end state is apply()'s, so a log replay rebuilds it.
   */
  *applySteps(m: Mutation, chunkRows = WRITE_CHUNK_ROWS): Generator<void, void, undefined> {
    switch (m.kind) {
      case 'insert':
      case 'upsert':
        yield* this.write(m.kind, m.vectors, m.values, chunkRows);
        break;
      case 'delete':
        this.delete(m.ids);
        break;
      case 'createMetadataIndex':
        // Validated before logging; a concurrent duplicate or the 11th index is a no-op.
        if (!this.propertyIndexes.has(m.propertyName) && this.propertyIndexes.size < LIMITS.maxMetadataIndexes)
          this.propertyIndexes.set(m.propertyName, new PropertyIndex(m.propertyName, m.indexType));
        break;
      case 'deleteMetadataIndex':
        this.dropMetadataIndex(m.propertyName);
        break;
    }
    this.lastMutation = { id: m.mutationId, timestamp: m.timestamp };
  }

  private *write(
    kind: 'insert' | 'upsert',
    vectors: readonly VectorHeader[],
    values: Float32Array,
    chunkRows: number,
  ): Generator<void, void, undefined> {
    // Within one batch insert keeps the first record for an id, upsert the last.
    const chosen = new Map<string, number>();
    vectors.forEach((v, i) => {
      if (kind === 'upsert' || !chosen.has(v.id)) chosen.set(v.id, i);
    });
    const picks = [...chosen.values()];
    for (let start = 0; start < picks.length; start += chunkRows) {
      if (start > 0) yield;
      this.writeRows(kind, vectors, values, picks.slice(start, start + chunkRows));
    }
  }

  /** Writes the vectors at `picks` (distinct ids) to the store, postings and graph. */
  private writeRows(kind: 'insert' | 'upsert', vectors: readonly VectorHeader[], values: Float32Array, picks: readonly number[]): void {
    const dim = this.config.dimensions;
    const added: number[] = [];
    const addedLabels: number[] = [];
    const removedLabels: number[] = [];
    for (const i of picks) {
      const header = vectors[i]!;
      const existing = this.store.byId.get(header.id);
      if (existing && kind === 'insert') continue;
      const record: NewRecord = {
        id: header.id,
        label: this.nextLabel++,
        namespace: header.namespace,
        metadata: header.metadata,
        indexed: this.indexedValues(header.metadata),
      };
      const row = values.subarray(i * dim, (i + 1) * dim);
      if (existing) {
        this.unpost(existing);
        removedLabels.push(existing.label);
        this.post(this.store.replace(existing, record, row));
      } else {
        this.post(this.store.add(record, row));
      }
      added.push(i);
      addedLabels.push(record.label);
    }
    this.graph.remove(removedLabels);
    this.graph.add(addedLabels, rowsAt(values, added, dim));
    if (added.length > 0) this.sortedIds = null;
  }

  private delete(ids: readonly string[]): void {
    const removed: number[] = [];
    for (const id of ids) {
      const record = this.store.byId.get(id);
      if (!record) continue;
      this.unpost(record);
      this.store.remove(record);
      removed.push(record.label);
    }
    this.graph.remove(removed);
    if (removed.length > 0) this.sortedIds = null;
  }

  private dropMetadataIndex(propertyName: string): void {
    if (!this.propertyIndexes.delete(propertyName)) return;
    for (const record of this.store.records()) {
      if (!record.indexed?.has(propertyName)) continue;
      const rest = new Map(record.indexed);
      rest.delete(propertyName);
      this.store.reindex(record, rest.size > 0 ? rest : undefined);
    }
  }

  private indexedValues(metadata: Metadata | undefined): Map<string, IndexedValue> | undefined {
    if (!metadata || this.propertyIndexes.size === 0) return undefined;
    let out: Map<string, IndexedValue> | undefined;
    for (const p of this.propertyIndexes.values()) {
      const v = indexableValue(metadata, p.propertyName, p.type);
      if (v !== undefined) (out ??= new Map()).set(p.propertyName, v);
    }
    return out;
  }

  private post(record: VectorRecord): void {
    if (record.namespace !== undefined) {
      let set = this.namespaces.get(record.namespace);
      if (!set) this.namespaces.set(record.namespace, (set = new Set()));
      set.add(record.label);
    }
    if (record.indexed) for (const [p, v] of record.indexed) this.propertyIndexes.get(p)?.add(v, record.label);
  }

  private unpost(record: VectorRecord): void {
    if (record.namespace !== undefined) {
      const set = this.namespaces.get(record.namespace);
      set?.delete(record.label);
      if (set?.size === 0) this.namespaces.delete(record.namespace);
    }
    if (record.indexed) for (const [p, v] of record.indexed) this.propertyIndexes.get(p)?.remove(v, record.label);
  }

  // ---- reads ------------------------------------------------------------

  /** Stored values of a vector, for queryById. */
  valuesOf(id: string): Float32Array | undefined {
    const record = this.store.byId.get(id);
    return record ? this.store.values(record.row).slice() : undefined;
  }

  getByIds(ids: readonly string[]): StoredVector[] {
    const out: StoredVector[] = [];
    for (const id of new Set(ids)) {
      const record = this.store.byId.get(id);
      if (!record) continue;
      const v: StoredVector = { id, values: Array.from(this.store.values(record.row)) };
      if (record.metadata !== undefined) v.metadata = record.metadata;
      if (record.namespace !== undefined) v.namespace = record.namespace;
      out.push(v);
    }
    return out;
  }

  listIds(count: number, cursor: string | undefined): ListPage {
    this.sortedIds ??= [...this.store.byId.keys()].sort();
    const ids = this.sortedIds;
    let start = 0;
    if (cursor !== undefined) {
      const after = decodeCursor(cursor);
      start = lowerBound(ids, (id) => id > after);
    }
    const page = ids.slice(start, start + count);
    const isTruncated = start + page.length < ids.length;
    return {
      count: page.length,
      totalCount: ids.length,
      isTruncated,
      nextCursor: isTruncated ? encodeCursor(page[page.length - 1]!) : null,
      cursorExpirationTimestamp: isTruncated ? new Date(Date.now() + 3600_000).toISOString() : null,
      vectors: page.map((id) => ({ id })),
    };
  }

  query(req: QueryRequest): Match[] {
    if (this.store.count === 0) return [];
    const rows = this.searchRows(req);
    return this.toMatches(rows, req);
  }

  private searchRows(req: QueryRequest): number[] {
    const { vector, topK } = req;
    const { exactBelow, subsetExactMax } = this.tuning;
    const n = this.store.count;
    const metric = this.config.metric;
    const accept = this.predicate(req.namespace, req.filter);
    if (!accept) {
      if (n <= exactBelow) return exactTop(this.store, metric, vector, topK);
      return this.approximate(vector, topK, null, n) ?? exactTop(this.store, metric, vector, topK);
    }
    const driver = this.postingsFor(req.namespace, req.filter);
    if (driver?.size === 0) return [];
    if (n <= exactBelow || (driver && driver.size <= subsetExactMax))
      return exactTop(this.store, metric, vector, topK, this.matchingRows(accept, driver));
    return (
      this.approximate(vector, topK, accept, driver?.size ?? n) ??
      exactTop(this.store, metric, vector, topK, this.matchingRows(accept, driver))
    );
  }

  /**
   * HNSW candidates, filtered, then re-scored exactly. With a filter the
   * candidate count grows by the inverse of its estimated selectivity.
   * Returns null when the graph did not yield enough matches, so the caller
   * falls back to an exact scan.
   */
  private approximate(
    query: Float32Array,
    k: number,
    accept: ((r: VectorRecord) => boolean) | null,
    estimate: number,
  ): number[] | null {
    const n = this.store.count;
    let want = k + this.tuning.extraCandidates;
    if (accept) want = Math.ceil((want * n) / Math.max(1, estimate));
    want = Math.min(want, n);
    const rows: number[] = [];
    for (const label of this.graph.search(query, want)) {
      const record = this.store.byLabel.get(label);
      if (record && (!accept || accept(record))) rows.push(record.row);
    }
    // Short of topK: a filter needs more candidates than the graph gave, or (unfiltered)
    // the graph missed vectors. Either way an exact scan answers correctly.
    if (rows.length < Math.min(k, n) && (want < n || !accept)) return null;
    return exactTop(this.store, this.config.metric, query, k, rows);
  }

  private predicate(namespace: string | undefined, filter: CompiledFilter | undefined) {
    if (namespace === undefined && !filter) return null;
    return (r: VectorRecord): boolean =>
      (namespace === undefined || r.namespace === namespace) && (!filter || matchesFilter(filter, r.indexed));
  }

  /**
   * The smallest posting lists that contain every match (namespace, or a
   * positive clause on an indexed property), or undefined when no clause
   * narrows the search. Lists of one property are disjoint, so sizes add up.
   */
  private postingsFor(namespace: string | undefined, filter: CompiledFilter | undefined): Postings | undefined {
    let best: Postings | undefined;
    const consider = (sets: ReadonlySet<number>[]) => {
      const size = sets.reduce((s, set) => s + set.size, 0);
      if (!best || size < best.size) best = { sets, size };
    };
    if (namespace !== undefined) {
      const set = this.namespaces.get(namespace);
      consider(set ? [set] : []);
    }
    for (const clause of filter ?? []) {
      const index = this.propertyIndexes.get(clause.key);
      if (index) {
        const sets = index.candidates(clause);
        if (sets) consider(sets);
      } else if (isPositive(clause)) {
        consider([]); // no metadata index: nothing was indexed, nothing can match
      }
    }
    return best;
  }

  private matchingRows(accept: (r: VectorRecord) => boolean, driver: Postings | undefined): number[] {
    const rows: number[] = [];
    if (driver) {
      for (const set of driver.sets)
        for (const label of set) {
          const record = this.store.byLabel.get(label)!;
          if (accept(record)) rows.push(record.row);
        }
    } else {
      for (const record of this.store.records()) if (accept(record)) rows.push(record.row);
    }
    return rows;
  }

  private toMatches(rows: number[], req: QueryRequest): Match[] {
    const metric = this.config.metric;
    const score = vectorizeScorer(metric, req.vector, this.store.dim);
    const matches = rows.map((row): Match => {
      const record = this.store.record(row);
      const values = this.store.values(row);
      const match: Match = { id: record.id, score: score(values, this.store.squaredNorm(row)) };
      if (req.returnValues) match.values = Array.from(values);
      if (req.returnMetadata === 'all' && record.metadata !== undefined) match.metadata = record.metadata;
      if (req.returnMetadata === 'indexed' && record.indexed) match.metadata = Object.fromEntries(record.indexed);
      if (record.namespace !== undefined) match.namespace = record.namespace;
      return match;
    });
    const order = byScore(metric);
    return matches.sort((a, b) => order(a.score, b.score) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  // ---- snapshots ----------------------------------------------------------

  saveGraph(path: string): void {
    this.graph.save(path);
  }

  /** The state as of now, for a snapshot written while writes go on (see VectorStore.freeze). */
  snapshotSource(): IndexSnapshotSource {
    const frozen = this.store.freeze();
    return {
      meta: { nextLabel: this.nextLabel, lastMutation: this.lastMutation, metadataIndexes: this.metadataIndexes() },
      records: frozen.records,
      copyRows: (start, end, out) => frozen.copyRows(start, end, out),
      release: frozen.release,
    };
  }

  /** Starts restoring a snapshot of `vectorCount` vectors into this (empty) index; then restoreRows(), then finishRestore(). */
  beginRestore(meta: IndexMeta, vectorCount: number): void {
    if (this.store.count > 0) throw new Error('restoring into an index that is not empty');
    for (const spec of meta.metadataIndexes)
      this.propertyIndexes.set(spec.propertyName, new PropertyIndex(spec.propertyName, spec.indexType));
    this.nextLabel = meta.nextLabel;
    this.lastMutation = meta.lastMutation;
    // Room to grow as well: the first write after a restore would otherwise copy the whole
    // matrix at once (both copies resident). Pages never written cost no memory.
    this.store.reserve(vectorCount + Math.max(1024, Math.ceil(vectorCount / 4)));
  }

  /** The next records in row order, with their rows (row-major). */
  restoreRows(records: readonly NewRecord[], rows: Float32Array): void {
    const dim = this.config.dimensions;
    if (rows.length !== records.length * dim) throw new Error(`${records.length} records came with ${rows.length / dim} rows`);
    records.forEach((record, i) => this.post(this.store.add(record, rows.subarray(i * dim, (i + 1) * dim))));
  }

  /**
   * Ends a restore. `loadGraph` restores the saved graph and returns true, or
   * returns false to have it rebuilt from the rows. Returns whether the saved
   * graph was used.
   */
  finishRestore(loadGraph: (graph: HnswGraph) => boolean): boolean {
    if (loadGraph(this.graph) && this.graph.size === this.store.count) return true;
    this.graph = new HnswGraph(this.config.dimensions, this.config.metric, this.tuning.hnsw);
    // In slices: the graph takes a normalised copy of what it is given.
    const records = this.store.records();
    const dim = this.config.dimensions;
    for (let start = 0; start < records.length; start += REBUILD_SLICE_ROWS) {
      const end = Math.min(records.length, start + REBUILD_SLICE_ROWS);
      this.graph.add(
        records.slice(start, end).map((r) => r.label),
        this.store.matrix().subarray(start * dim, end * dim),
      );
    }
    return false;
  }
}

/**
 * Vectors an insert or upsert hands the graph per step. Measured on 20k × 512 vectors (2 cores):
 * 256 a call add as fast as 5,000 a call, 64 a call half as fast.
 */
export const WRITE_CHUNK_ROWS = 256;

/** Rows `indices` of a row-major matrix; a view when they are consecutive. */
function rowsAt(values: Float32Array, indices: readonly number[], dim: number): Float32Array {
  const first = indices[0] ?? 0;
  if (indices.every((i, j) => i === first + j)) return values.subarray(first * dim, (first + indices.length) * dim);
  const out = new Float32Array(indices.length * dim);
  indices.forEach((i, j) => out.set(values.subarray(i * dim, (i + 1) * dim), j * dim));
  return out;
}

/** Rows handed to the graph at once when it is rebuilt. */
const REBUILD_SLICE_ROWS = 65_536;

const isPositive = (clause: Clause): boolean =>
  (clause.op === 'eq' && clause.value !== null) ||
  (clause.op === 'in' && !clause.values.includes(null)) ||
  clause.op === 'range';
