// Dense float32 storage: live vectors occupy rows 0..count-1 of one matrix,
// so exact scans hand the native scorer a single contiguous array. Removal
// moves the last row into the hole; records carry their current row.
// A snapshot reads the rows as they were at one moment while writes go on
// (freeze()): a frozen row is copied aside only when it is about to change.
import type { IndexedValue, Metadata } from '../types.ts';

export interface VectorRecord {
  readonly id: string;
  /** Stable key in the HNSW graph and the metadata/namespace postings. */
  readonly label: number;
  row: number;
  readonly namespace: string | undefined;
  readonly metadata: Metadata | undefined;
  /** Indexed property values captured when the vector was written. */
  readonly indexed: Map<string, IndexedValue> | undefined;
}

export type NewRecord = Omit<VectorRecord, 'row'>;

export class VectorStore {
  private data: Float32Array;
  private norms: Float64Array;
  private readonly rows: VectorRecord[] = [];
  readonly byId = new Map<string, VectorRecord>();
  readonly byLabel = new Map<number, VectorRecord>();
  private frozen: FrozenRows | null = null;

  constructor(
    readonly dim: number,
    capacity = 1024,
  ) {
    this.data = new Float32Array(capacity * dim);
    this.norms = new Float64Array(capacity);
  }

  get count(): number {
    return this.rows.length;
  }

  /** The live rows, row-major (a view, valid until the next write). */
  matrix(): Float32Array {
    return this.data.subarray(0, this.rows.length * this.dim);
  }

  values(row: number): Float32Array {
    return this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  record(row: number): VectorRecord {
    return this.rows[row]!;
  }

  records(): readonly VectorRecord[] {
    return this.rows;
  }

  /** Squared L2 norm of a row (kept for euclidean ranking). */
  squaredNorm(row: number): number {
    return this.norms[row]!;
  }

  add(record: NewRecord, values: Float32Array): VectorRecord {
    const row = this.rows.length;
    if (row === this.norms.length) this.reserve(Math.max(16, row * 2));
    const stored: VectorRecord = { ...record, row };
    this.rows.push(stored);
    this.byId.set(stored.id, stored);
    this.byLabel.set(stored.label, stored);
    this.write(row, values);
    return stored;
  }

  /** Swaps `next` in for the record with the same id, in place. */
  replace(previous: VectorRecord, next: NewRecord, values: Float32Array): VectorRecord {
    const stored: VectorRecord = { ...next, row: previous.row };
    this.rows[previous.row] = stored;
    this.byId.set(stored.id, stored);
    this.byLabel.delete(previous.label);
    this.byLabel.set(stored.label, stored);
    this.write(stored.row, values);
    return stored;
  }

  /** Swaps in a copy of `record` with other indexed values (a frozen snapshot keeps the old record). */
  reindex(record: VectorRecord, indexed: Map<string, IndexedValue> | undefined): void {
    const stored: VectorRecord = { ...record, indexed };
    this.rows[record.row] = stored;
    this.byId.set(stored.id, stored);
    this.byLabel.set(stored.label, stored);
  }

  remove(record: VectorRecord): void {
    const last = this.rows.length - 1;
    const row = record.row;
    // The hole is overwritten and the last row given up (a later add reuses it).
    this.frozen?.keep(row, this.values(row));
    this.frozen?.keep(last, this.values(last));
    if (row !== last) {
      const moved = this.rows[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.norms[row] = this.norms[last]!;
      moved.row = row;
      this.rows[row] = moved;
    }
    this.rows.pop();
    this.byId.delete(record.id);
    this.byLabel.delete(record.label);
  }

  /**
   * The records and rows as they are now, readable while writes go on until
   * `release()`; one at a time.
   */
  freeze(): FrozenRows {
    if (this.frozen) throw new Error('the store is already frozen for a snapshot');
    const frozen = new FrozenRows(this, this.rows.slice(), () => {
      if (this.frozen === frozen) this.frozen = null;
    });
    this.frozen = frozen;
    return frozen;
  }

  /** Room for `rows` rows in all without growing again (a restore knows its size). */
  reserve(rows: number): void {
    if (rows <= this.norms.length) return;
    const data = new Float32Array(rows * this.dim);
    data.set(this.data.subarray(0, this.rows.length * this.dim));
    const norms = new Float64Array(rows);
    norms.set(this.norms.subarray(0, this.rows.length));
    this.data = data;
    this.norms = norms;
  }

  private write(row: number, values: Float32Array): void {
    this.frozen?.keep(row, this.values(row));
    this.data.set(values, row * this.dim);
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
    this.norms[row] = sum;
  }
}

/** Rows 0..count-1 and their records as they were when the store was frozen. */
export class FrozenRows {
  /** Frozen rows overwritten or given up since, with their values then. */
  private readonly kept = new Map<number, Float32Array>();
  /** Rows below this are read already and need not be kept. */
  private readFrom = 0;

  constructor(
    private readonly store: VectorStore,
    readonly records: readonly VectorRecord[],
    readonly release: () => void,
  ) {}

  get count(): number {
    return this.records.length;
  }

  /** Called by the store before a row changes. */
  keep(row: number, current: Float32Array): void {
    if (row >= this.readFrom && row < this.count && !this.kept.has(row)) this.kept.set(row, current.slice());
  }

  /**
   * Copies rows [start, end) into `out`, as they were when frozen. Reads go
   * forward: rows before `end` are not asked for again.
   */
  copyRows(start: number, end: number, out: Float32Array): void {
    const dim = this.store.dim;
    const live = Math.min(end, this.store.count);
    if (live > start) out.set(this.store.matrix().subarray(start * dim, live * dim));
    for (let row = start; row < end; row++) {
      const old = this.kept.get(row);
      if (old) {
        out.set(old, (row - start) * dim);
        this.kept.delete(row);
      } else if (row >= live) throw new Error(`frozen row ${row} was neither live nor kept`);
    }
    this.readFrom = end;
  }
}
